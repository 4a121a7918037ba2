"""``python -m gateway``: serve the API on HUB_GATEWAY_HOST:HUB_GATEWAY_PORT."""

from __future__ import annotations

import sys

import uvicorn

from hub.masking import setup_logging
from hub.settings import HubSettings, get_settings

from .main import create_app


def server(settings: HubSettings) -> uvicorn.Server:
    # log_config=None: uvicorn's own handlers would print an error's traceback unmasked; its loggers
    # propagate to the root handler instead, whose formatter masks the whole line, traceback included
    config = uvicorn.Config(
        create_app(settings),
        host=settings.gateway_host,
        port=settings.gateway_port,
        log_level="warning",
        log_config=None,
    )
    return uvicorn.Server(config)


def main() -> None:
    settings = get_settings()
    setup_logging(service="gateway")
    gateway = server(settings)
    gateway.run()
    if not gateway.started:  # as uvicorn.run: a failed start-up (lifespan, bind) is a failed exit
        sys.exit(3)


if __name__ == "__main__":
    main()
