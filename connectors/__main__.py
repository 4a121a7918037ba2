"""``python -m connectors [--agency NAME ...]``: run the agency connectors."""

from __future__ import annotations

import argparse
import contextlib

import uvloop

from hub.masking import setup_logging
from hub.settings import get_settings

from .service import run_connectors


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m connectors")
    parser.add_argument("--agency", action="append", help="agency name (repeatable); default: all")
    args = parser.parse_args()
    setup_logging(service="connectors")
    with contextlib.suppress(KeyboardInterrupt):
        # libuv's event loop: asyncio's own loop, transports and futures were 30 % of the CPU here
        uvloop.run(run_connectors(get_settings(), args.agency))


if __name__ == "__main__":
    main()
