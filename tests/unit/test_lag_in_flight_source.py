"""``connectors_in_flight``: reads each connectors process's ``/in-flight`` over real HTTP, merges
them, skips an unreachable one, and keeps its connection between reads (a new client per read cost
a TLS context each time)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from hub.lag_sampler import connectors_in_flight


@pytest.fixture
def connectors() -> Iterator[tuple[str, list[int]]]:
    connections: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            connections.append(1)

        def do_GET(self) -> None:
            assert self.path == "/in-flight"
            body = json.dumps(
                {"hub-connector-police": [{"topic": "t", "partition": 2, "offset": 7, "age_seconds": 1.5}]}
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", connections
    finally:
        server.shutdown()
        server.server_close()


def test_reads_merge_skip_the_unreachable_and_reuse_the_connection(
    connectors: tuple[str, list[int]],
) -> None:
    url, connections = connectors
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    read = connectors_in_flight([dead, url], timeout=2.0)
    try:
        for _ in range(3):
            assert read() == {"hub-connector-police": {("t", 2): (7, 1.5)}}
    finally:
        read.close()
    assert len(connections) == 1
