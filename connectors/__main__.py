"""``python -m connectors [--agency NAME ...]``: run the agency connectors."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from hub.masking import setup_logging
from hub.settings import get_settings

from .service import run_connectors


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m connectors")
    parser.add_argument("--agency", action="append", help="agency name (repeatable); default: all")
    args = parser.parse_args()
    setup_logging(service="connectors")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_connectors(get_settings(), args.agency))


if __name__ == "__main__":
    main()
