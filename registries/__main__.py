"""``python -m registries [--agency NAME ...]``: run the mocked registries."""

from .server import main

main()
