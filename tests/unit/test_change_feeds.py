"""Every registry's change feed (registries/changes.py) read by the connector's follower
(connectors/watch.py) over HTTP (the registry app served in-process): each agency's own shape,
paging, cursors that survive a restart, credits above the threshold, refusals in the registry's
own error format, and unreadable changes dead-lettered."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.registry_adapters import build_adapter
from connectors.watch import FEED_CLIENTS, CursorStore, FeedFollower
from hub.errors import RegistryUnavailable
from hub.settings import HubSettings
from registries.app import create_app
from registries.changes import FEEDS
from registries.requester import EXEMPT
from registries.store import RegistryData
from schemas.agencies import agency_type
from schemas.codec import decode
from schemas.identifiers import resident_id_check
from schemas.topics import DEAD_LETTERS, WATCH_CHANGES

OWNER = {"name": "沃奇丁", "id_type": "resident_id", "id_number": "42010619850101011"}
OWNER["id_number"] += resident_id_check(OWNER["id_number"])
ASSETS = {
    "police": ("vehicle", "鄂A·C0001", "vehicle_registered"),
    "commerce": ("equity", "91110108MA0R8K3Q1Y", "stake_acquired"),
    "real_estate": ("real_estate", "鄂(2026)武汉市不动产权第0000001号", "property_registered"),
    "land": ("land_use_right", "420106001001GB00009", "land_right_registered"),
    "bank:icbc": ("deposit", "6222021000000001", "account_opened"),
    "securities": ("securities", "A800000001", "securities_bought"),
}


class Producer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes]] = []

    async def send(self, topic: str, value: bytes, key: bytes | None = None) -> asyncio.Future[None]:
        self.sent.append((topic, key, value))
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    def changes(self) -> list[Any]:
        return [decode(WATCH_CHANGES, v) for t, _, v in self.sent if t == WATCH_CHANGES]


def line(agency: str, ref: str | None = None, value: str = "50000.00", owner: dict[str, str] = OWNER) -> Any:
    kind, default_ref, _ = ASSETS[agency]
    return {
        "registry": agency,
        "owner": owner,
        "asset": {"kind": kind, "ref": ref or default_ref, "value": value},
    }


def settings(tmp_path: Path) -> HubSettings:
    return HubSettings(registry_latency_ms="fixed:0", state_dir=tmp_path, registry_credit_threshold="10000")


def run(
    agency: str,
    tmp_path: Path,
    body: Callable[[httpx.AsyncClient, FeedFollower, Producer], Any],
    app: Any = None,
) -> Any:
    s = settings(tmp_path)
    adapter = build_adapter(agency, s)
    app = app or create_app(agency, RegistryData(), s)

    async def go() -> Any:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=adapter.base_url) as client:
            producer = Producer()
            cursors = CursorStore(tmp_path / "feeds.db")
            follower = FeedFollower(adapter, s, producer=producer, client=client, cursors=cursors)  # type: ignore[arg-type]
            try:
                return await body(client, follower, producer)
            finally:
                cursors.close()

    return asyncio.run(go())


async def post_line(client: httpx.AsyncClient, follower: FeedFollower, data: Any) -> httpx.Response:
    return await client.post("/_admin/records", json=data, headers=follower.adapter.auth_headers())


@pytest.mark.parametrize("agency", list(ASSETS))
def test_each_registry_publishes_a_planted_record_on_its_own_feed(agency: str, tmp_path: Path) -> None:
    kind, ref, change_type = ASSETS[agency]

    async def body(client: httpx.AsyncClient, follower: FeedFollower, producer: Producer) -> None:
        assert (await follower.poll_once()) is False and producer.sent == []  # nothing yet
        r = await post_line(client, follower, line(agency))
        assert r.status_code == 201, r.text
        assert r.json() == {"sequence": 1, "change_type": change_type, "ref": ref}
        await follower.poll_once()
        [change] = producer.changes()
        assert change.agency == agency and change.change_type == change_type
        assert change.asset.kind == kind and change.asset.ref == ref
        assert change.asset.owner.name == OWNER["name"] and change.asset.owner.id_number == OWNER["id_number"]
        assert producer.sent[0][1] == f"{agency}/{ref}".encode()
        await follower.poll_once()  # the cursor moved past it: not published again
        assert len(producer.changes()) == 1
        # the feed's shape is the registry's own: its path and cursor parameter
        shape = FEEDS[agency_type(agency)]
        assert shape.path == FEED_CLIENTS[agency_type(agency)].path
        bad = await client.get(
            shape.path, params={shape.cursor: "x"}, headers=follower.adapter.auth_headers()
        )
        assert bad.status_code == 400 and shape.cursor in bad.text
        anon = await client.get(shape.path)
        assert anon.status_code == 401

    run(agency, tmp_path, body)


def test_feeds_need_no_requester_headers() -> None:
    assert {shape.path for shape in FEEDS.values()} <= EXEMPT


def test_a_long_feed_is_read_page_by_page_with_an_opaque_cursor(tmp_path: Path) -> None:
    async def body(client: httpx.AsyncClient, follower: FeedFollower, producer: Producer) -> None:
        for i in range(25):
            assert (
                await post_line(client, follower, line("bank:icbc", ref=f"62220300{i:08d}"))
            ).status_code == 201
        assert await follower.poll_once() is True  # a full page: more may wait
        cursor = follower.cursors.get("bank:icbc")
        assert cursor is not None and not cursor.isdigit()
        assert await follower.poll_once() is False
        refs = [c.asset.ref for c in producer.changes()]
        assert refs == [f"62220300{i:08d}" for i in range(25)]
        assert len({c.change_id for c in producer.changes()}) == 25

    run("bank:icbc", tmp_path, body)


def test_a_credit_at_or_above_the_threshold_is_published_a_smaller_one_is_not(tmp_path: Path) -> None:
    async def body(client: httpx.AsyncClient, follower: FeedFollower, producer: Producer) -> None:
        await post_line(client, follower, line("bank:icbc", value="1000.00"))
        small = await post_line(client, follower, line("bank:icbc", value="5000.00"))
        assert small.json()["sequence"] is None  # +4,000.00: below 10,000.00, recorded silently
        big = await post_line(client, follower, line("bank:icbc", value="25000.00"))
        assert big.json() == {"sequence": 2, "change_type": "balance_credited", "ref": ASSETS["bank:icbc"][1]}
        lower = await post_line(client, follower, line("bank:icbc", value="100.00"))
        assert lower.json()["sequence"] is None
        await follower.poll_once()
        opened, credited = producer.changes()
        assert opened.change_type == "account_opened"
        assert credited.change_type == "balance_credited" and credited.credited == "20000.00"
        assert str(credited.asset.value) == "100.00"  # the record as the bank holds it now

    run("bank:icbc", tmp_path, body)


def test_planted_records_and_the_feed_survive_a_registry_restart(tmp_path: Path) -> None:
    s = settings(tmp_path)
    register = tmp_path / "registries" / "land.db"

    async def plant(client: httpx.AsyncClient, follower: FeedFollower, producer: Producer) -> None:
        assert (await post_line(client, follower, line("land"))).status_code == 201
        await follower.poll_once()
        assert len(producer.changes()) == 1

    run("land", tmp_path, plant, app=create_app("land", RegistryData(), s, register))

    async def after(client: httpx.AsyncClient, follower: FeedFollower, producer: Producer) -> None:
        await follower.poll_once()  # the stored cursor: nothing new
        assert producer.changes() == []
        second = line("land", ref="420106001001GB00010")
        assert (await post_line(client, follower, second)).json()["sequence"] == 2
        await follower.poll_once()
        assert [c.asset.ref for c in producer.changes()] == ["420106001001GB00010"]
        found = await client.post(
            "/landreg/query",
            content=f"zjhm={OWNER['id_number']}",
            headers={
                **follower.adapter.auth_headers(),
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Requesting-Court": "court-a",
                "X-Case": "case_1",
                "X-Officer": "officer-1",
                "X-Legal-Basis": "basis",
            },
        )
        assert found.status_code == 200, found.text
        assert len(found.json()["records"]) == 2  # both planted records, the first from before the restart

    run("land", tmp_path, after, app=create_app("land", RegistryData(), s, register))


def test_a_line_that_does_not_fit_is_refused_with_the_reason(tmp_path: Path) -> None:
    async def body(client: httpx.AsyncClient, follower: FeedFollower, producer: Producer) -> None:
        wrong_kind = {**line("police"), "asset": {"kind": "deposit", "ref": "x", "value": "1.00"}}
        r = await post_line(client, follower, wrong_kind)
        assert r.status_code == 400 and "not held by police" in r.text
        r = await client.post("/_admin/records", content=b"{", headers=follower.adapter.auth_headers())
        assert r.status_code == 400 and "fixture line" in r.text
        r = await client.post("/_admin/records", json=line("police"))  # no credential
        assert r.status_code == 401

    run("police", tmp_path, body)


def test_an_unreadable_change_is_dead_lettered_and_the_feed_moves_on(tmp_path: Path) -> None:
    s = settings(tmp_path)
    adapter = build_adapter("securities", s)
    good = {"seqNo": 2, "changeType": "securities_bought", "changeTime": "2026-11-30T10:00:00+08:00"}
    good["account"] = {
        "acctNo": "A1",
        "holder": {"holderName": "某", "certType": "01", "certNo": "1"},
        "marketValue": "0.00",
    }
    reply = {"retCode": "0000", "data": {"changes": [{"seqNo": 1, "changeType": "x"}, good], "nextSeq": 2}}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=reply)

    async def go() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            producer = Producer()
            follower = FeedFollower(
                adapter, s, producer=producer, client=client, cursors=CursorStore(tmp_path / "f.db")
            )  # type: ignore[arg-type]
            await follower.poll_once()
            topics = [t for t, _, _ in producer.sent]
            assert topics == [WATCH_CHANGES, DEAD_LETTERS]
            letter = json.loads(producer.sent[1][2])
            assert letter["stage"] == "connectors.watch.feed" and letter["error_class"] == "KeyError"
            assert follower.cursors.get("securities") == "2" and follower.dead_lettered == 1

    asyncio.run(go())


def test_a_registry_that_is_down_leaves_the_cursor_where_it_was(tmp_path: Path) -> None:
    s = settings(tmp_path)
    adapter = build_adapter("commerce", s)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"success": False, "errorCode": "X", "errorMessage": "down"})

    async def go() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            cursors = CursorStore(tmp_path / "f.db")
            cursors.put("commerce", "7")
            follower = FeedFollower(adapter, s, producer=Producer(), client=client, cursors=cursors)  # type: ignore[arg-type]
            with pytest.raises(RegistryUnavailable):
                await follower.poll_once()
            assert cursors.get("commerce") == "7"

    asyncio.run(go())
