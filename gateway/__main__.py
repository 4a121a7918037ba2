"""``python -m gateway``: serve the API on HUB_GATEWAY_HOST:HUB_GATEWAY_PORT."""

from __future__ import annotations

import uvicorn

from hub.masking import setup_logging
from hub.settings import get_settings

from .main import create_app


def main() -> None:
    settings = get_settings()
    setup_logging(service="gateway")
    uvicorn.run(
        create_app(settings), host=settings.gateway_host, port=settings.gateway_port, log_level="warning"
    )


if __name__ == "__main__":
    main()
