"""A one-year freeze under a simulated clock: the court is reminded first, then told it expired.

The hub's processes all read the offset in HUB_CLOCK_FILE, so moving it moves the whole hub's time.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest

from hub.clock import set_clock_offset

from .conftest import REMINDER_DAYS, HubClient
from .planted import EXPIRY_ACCOUNT, EXPIRY_DEBTOR

pytestmark = pytest.mark.integration
DAY = 86400


def sqlite_dump(hub: HubClient) -> object:
    import sqlite3

    db = sqlite3.connect(str(hub.hub.state_dir / "hub.db"))
    return db.execute("select event_id, status, attempts, last_error from webhook_deliveries").fetchall()


def _events(hub: HubClient, order_id: str) -> list[str]:
    return [h["event"] for h in hub.court_a.get(f"/v1/control-orders/{order_id}").json()["history"]]


def _wait_event(hub: HubClient, order_id: str, event: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while event not in _events(hub, order_id):
        assert time.monotonic() < deadline, f"no {event}: {_events(hub, order_id)}"
        time.sleep(0.3)


def test_one_year_freeze_reminds_then_expires(hub: HubClient) -> None:
    case_id, assets = hub.find_assets(EXPIRY_DEBTOR)
    order = hub.order(
        case_id=case_id,
        asset_id=assets[EXPIRY_ACCOUNT]["asset_id"],
        action="freeze",
        amount="1000.00",
        approved_by=hub.judge(),
    )
    state = hub.wait_order(order, {"effective", "rejected", "failed"})
    assert state["status"] == "effective"
    starts = dt.datetime.fromisoformat(state["effective_at"])
    assert dt.datetime.fromisoformat(state["expires_at"]) - starts == dt.timedelta(days=365)
    try:
        set_clock_offset(hub.clock_file, (365 - REMINDER_DAYS + 1) * DAY)
        _wait_event(hub, order, "expiring")
        assert hub.court_a.get(f"/v1/control-orders/{order}").json()["status"] == "effective"
        assert "expired" not in _events(hub, order)

        set_clock_offset(hub.clock_file, 366 * DAY)
        state = hub.wait_order(order, {"expired"})
        events = _events(hub, order)
        assert events.index("expiring") < events.index("expired")
        pushed = [e["kind"] for e in hub.webhook.events() if e["order_id"] == order]
        deadline = time.monotonic() + 20
        while "expired" not in pushed and time.monotonic() < deadline:
            time.sleep(0.3)
            pushed = [e["kind"] for e in hub.webhook.events() if e["order_id"] == order]
        assert "expiring" in pushed and pushed.index("expiring") < pushed.index("expired"), (
            pushed,
            hub.webhook.refused_ids,
            [(e["kind"], e["order_id"]) for e in hub.webhook.events()],
            sqlite_dump(hub),
        )
    finally:
        set_clock_offset(hub.clock_file, 0)
