"""The embedded broker's object store (deploy/embedded/store.js) as the broker uses it: listings
longer than a page, listings answered from the metadata index across a restart, conditional writes.
Runs the real store (Node.js and s3rver, installed by ``make``) on a temporary directory."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hub.supervisor import EMBEDDED, STORE_SCRIPT

BUCKET = "tansu"
PREFIX = "clusters/c/topics/t/partitions/0000000000/records/"


class Store:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/{BUCKET}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, env: dict[str, str] | None = None) -> None:
        node = shutil.which("node")
        assert node is not None and (EMBEDDED / "node_modules" / "s3rver").is_dir(), "run make first"
        self.proc = subprocess.Popen(
            [node, str(STORE_SCRIPT), str(self.directory), "127.0.0.1", str(self.port), BUCKET],
            stdout=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{self.url}?list-type=2&max-keys=1", timeout=1)
                return
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "store did not start"
                time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()

    def keys(self, prefix: str, page: int = 1000) -> tuple[list[str], int]:
        """Every key under ``prefix``, following continuation tokens; and the number of pages."""
        keys: list[str] = []
        params = {"list-type": "2", "prefix": prefix, "max-keys": str(page)}
        pages = 0
        while True:
            r = httpx.get(self.url, params=params, timeout=30)
            assert r.status_code == 200, r.text
            pages += 1
            keys += re.findall(r"<Key>([^<]*)</Key>", r.text)
            token = re.search(r"<NextContinuationToken>([^<]*)</NextContinuationToken>", r.text)
            if token is None:
                assert "<IsTruncated>false</IsTruncated>" in r.text
                return keys, pages
            params["continuation-token"] = token.group(1)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "store")
    s.start()
    yield s
    s.stop()


async def _put_many(url: str, keys: list[str]) -> None:
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=20)) as client:
        sem = asyncio.Semaphore(20)

        async def put(key: str) -> None:
            async with sem:
                r = await client.put(f"{url}/{key}", content=key.encode())
                assert r.status_code == 200, r.text

        await asyncio.gather(*(put(k) for k in keys))


def test_a_partition_of_more_than_a_page_of_batches_lists_whole_across_a_restart(store: Store) -> None:
    wanted = [f"{PREFIX}{offset:020d}.batch" for offset in range(0, 2100, 2)]  # 1,050 batches
    asyncio.run(_put_many(store.url, [*wanted, "clusters/c/topics/u/partitions/0000000000/watermark.json"]))
    keys, pages = store.keys(PREFIX)
    assert keys == wanted and pages == 2  # the second page needs the continuation token
    assert store.keys(PREFIX, page=400) == (wanted, 3)
    r = httpx.delete(f"{store.url}/{wanted[5]}")
    assert r.status_code == 204
    store.stop()
    store.start()  # the index is built again from the files
    keys, _ = store.keys(PREFIX)
    assert keys == wanted[:5] + wanted[6:]
    assert httpx.get(f"{store.url}/{wanted[7]}").content == wanted[7].encode()
    assert httpx.head(f"{store.url}/{wanted[5]}").status_code == 404
    r = httpx.get(store.url, params={"list-type": "2", "prefix": "clusters/c/topics/", "delimiter": "/"})
    assert re.findall(r"<Prefix>([^<]*)</Prefix>", r.text)[1:] == [
        "clusters/c/topics/t/",
        "clusters/c/topics/u/",
    ]


def test_conditional_writes_hold_across_a_restart(store: Store) -> None:
    key = f"{store.url}/clusters/c/topics/t/partitions/0000000000/watermark.json"
    assert httpx.put(key, content=b"1", headers={"If-None-Match": "*"}).status_code == 200
    assert httpx.put(key, content=b"2", headers={"If-None-Match": "*"}).status_code == 412
    store.stop()
    store.start()
    assert httpx.put(key, content=b"3", headers={"If-None-Match": "*"}).status_code == 412
    etag = httpx.head(key).headers["etag"]
    assert httpx.put(key, content=b"4", headers={"If-Match": etag}).status_code == 200
    assert httpx.put(key, content=b"5", headers={"If-Match": etag}).status_code == 412
    assert httpx.get(key).content == b"4"
    listed, _ = store.keys("clusters/")
    assert listed == ["clusters/c/topics/t/partitions/0000000000/watermark.json"]


def test_record_batches_older_than_their_topics_retention_are_removed_but_the_newest_stays(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "store")
    retained = {"hub.agency.responses": 3_000}  # milliseconds
    store.start({"HUB_STORE_RETENTION_MS": json.dumps(retained), "HUB_STORE_SWEEP_SECONDS": "0.5"})
    try:
        responses = "clusters/c/topics/hub.agency.responses/partitions/0000000001/records/"
        changelog = "clusters/c/topics/hub-streams-cases-changelog/partitions/0000000001/records/"
        watermark = "clusters/c/topics/hub.agency.responses/partitions/0000000001/watermark.json"
        old = [f"{responses}{offset:020d}.batch" for offset in range(5)]
        kept_whole = [f"{changelog}{offset:020d}.batch" for offset in range(5)]
        asyncio.run(_put_many(store.url, [*old, *kept_whole, watermark]))
        time.sleep(4.5)  # older than the retention now, and a sweep has run since
        assert store.keys(responses)[0] == old[-1:]  # the newest batch of the partition stays
        fresh = f"{responses}{5:020d}.batch"
        asyncio.run(_put_many(store.url, [fresh]))
        time.sleep(1.5)
        # the fresh batch is younger than the retention and kept; the old one, no longer the
        # newest, goes
        assert store.keys(responses)[0] == [fresh]
        assert store.keys(changelog)[0] == kept_whole  # a topic without retention: kept whole
        assert httpx.get(f"{store.url}/{watermark}").status_code == 200
    finally:
        store.stop()
