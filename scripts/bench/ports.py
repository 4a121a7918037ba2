"""A free block of ports for the benchmark's own hub, so it runs beside another hub on this machine."""

from __future__ import annotations

import random
import socket


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def port_overrides() -> dict[str, str]:
    """``HUB_*_PORT`` variables on a block base .. base+30 that is free now, drawn below Linux's
    ephemeral range (32768-60999) so no outgoing connection takes a port before the hub binds it.
    The block holds the broker, its store, every registry, the gateway and two stream workers and
    two connector processes (each one's port + 10 per further process)."""
    for _ in range(200):
        base = random.randrange(10000, 32000, 100)
        if all(_free(base + i) for i in range(31)):
            return {
                "HUB_EMBEDDED_KAFKA_PORT": str(base),
                "HUB_REGISTRY_BASE_PORT": str(base),
                "HUB_GATEWAY_PORT": str(base + 15),
                "HUB_CONNECTORS_PORT": str(base + 16),
                "HUB_STREAMS_PORT": str(base + 17),
                "HUB_EMBEDDED_STORE_PORT": str(base + 18),
            }
    raise RuntimeError("no free block of 31 ports between 10000 and 32000")
