"""``python -m streams worker``: run a stream worker (faust's own command line), on uvloop."""

import mode.loop

mode.loop.use("uvloop")  # before faust creates its event loop (faust's own ``--loop uvloop``)

from .app import main  # noqa: E402

main()
