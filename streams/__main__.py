"""``python -m streams worker``: run a stream worker (faust's own command line)."""

from .app import main

main()
