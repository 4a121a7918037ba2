"""Run the mocked registries: every agency its own uvicorn server and port, one process, one loop.

The population is generated once and shared, so starting seven registries costs one generation.
Uvicorn's own signal capture is per server and would stop only one of them: here one handler
stops them all.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Generator, Sequence

import uvicorn
import uvloop

from hub.masking import setup_logging
from hub.settings import HubSettings

from .app import create_app, register_path
from .fixtures import load_fixtures
from .population import generate
from .store import RegistryData

__all__ = ["build_data", "main", "serve_all"]

log = logging.getLogger("registries")


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # serve_all owns SIGINT/SIGTERM for every server


def build_data(settings: HubSettings) -> RegistryData:
    """Generate the population and load ``HUB_REGISTRY_FIXTURES`` (refused lines stop start-up)."""
    started = time.perf_counter()
    fixtures = (
        load_fixtures(settings.registry_fixtures, agencies=settings.agencies)
        if settings.registry_fixtures
        else []
    )
    population = generate(settings.registry_seed, settings.registry_scale, bank_codes=settings.bank_codes)
    log.info(
        "population: %d people, %d companies, %d records, %d planted, in %.1f s",
        len(population.people),
        len(population.companies),
        len(population.holdings),
        len(fixtures),
        time.perf_counter() - started,
    )
    return RegistryData.build(population, fixtures)


async def serve_all(settings: HubSettings, agencies: Sequence[str] | None = None) -> None:
    """Serve every registry (or ``agencies``) until SIGINT/SIGTERM, each on ``registry_port(agency)``."""
    names = list(agencies or settings.agencies)
    for name in names:
        if name not in settings.agencies:
            raise ValueError(f"unknown agency {name!r}; configured: {', '.join(settings.agencies)}")
    data = build_data(settings)
    servers = {
        name: _Server(
            uvicorn.Config(
                create_app(name, data, settings, register_path(settings, name)),
                host=settings.registry_host,
                port=settings.registry_port(name),
                access_log=False,
                log_level="warning",
                ws="none",
                lifespan="off",
            )
        )
        for name in names
    }

    def stop() -> None:
        for server in servers.values():
            server.should_exit = True

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    tasks = [asyncio.create_task(s.serve(), name=f"registry {n}") for n, s in servers.items()]
    for name, server in servers.items():
        while not server.started and not tasks[names.index(name)].done():
            await asyncio.sleep(0.02)
        if server.started:
            log.info("registry %s listening on %s", name, settings.registry_url(name))
    await asyncio.gather(*tasks)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m registries", description="Run the mocked agency registries."
    )
    parser.add_argument("--agency", action="append", help="run only this agency (repeatable); default: all")
    args = parser.parse_args(argv)
    setup_logging(service="registries")
    uvloop.run(serve_all(HubSettings(), args.agency))  # libuv's loop: the mock costs the bench less
