"""Controls under a simulated clock: a one-year freeze reminds the court first, then expires; a
waiting freeze secures nothing and is promoted when the other court's freeze ahead of it lapses.

The hub's processes all read the offset in HUB_CLOCK_FILE, so moving it moves the whole hub's time.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from typing import Any

import pytest

from hub.clock import set_clock_offset

from .complete import found
from .conftest import REMINDER_DAYS, HubClient
from .planted import (
    EXPIRY_ACCOUNT,
    EXPIRY_DEBTOR,
    PROMOTE_AHEAD_DAYS_LEFT,
    PROMOTE_AHEAD_REGISTERED_AT,
    PROMOTE_DEBTOR,
    PROMOTE_FREE,
    PROMOTE_HELD,
)

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
        pushed = [e["kind"] for e in hub.webhook.events() if e.get("order_id") == order]
        deadline = time.monotonic() + 20
        while "expired" not in pushed and time.monotonic() < deadline:
            time.sleep(0.3)
            pushed = [e["kind"] for e in hub.webhook.events() if e.get("order_id") == order]
        assert "expiring" in pushed and pushed.index("expiring") < pushed.index("expired"), (
            pushed,
            hub.webhook.refused_ids,
            [(e.get("kind"), e.get("order_id")) for e in hub.webhook.events()],
            sqlite_dump(hub),
        )
    finally:
        set_clock_offset(hub.clock_file, 0)


def test_a_waiting_freeze_secures_nothing_and_is_promoted_when_the_one_ahead_lapses(hub: HubClient) -> None:
    """Another court's freeze (outside the hub) holds the whole account and lapses in 65 days: the
    hub learns of the promotion by asking the bank when that freeze was due to end."""
    lapse = PROMOTE_AHEAD_REGISTERED_AT + dt.timedelta(days=365)
    case_id, assets = found(hub, PROMOTE_DEBTOR)  # owed 100,000.00 + costs 1,500.00
    (ahead,) = assets[PROMOTE_HELD]["controls"]
    assert (ahead["court"], ahead["status"]) == ("court-x", "effective")
    assert dt.datetime.fromisoformat(ahead["expires_at"]) == lapse

    held = hub.order(
        case_id=case_id,
        asset_id=assets[PROMOTE_HELD]["asset_id"],
        action="freeze",
        amount="60000.00",
        approved_by=hub.judge(),
    )
    waiting = hub.wait_order(held, {"effective", "waiting", "partial", "rejected", "failed"})
    assert (waiting["status"], waiting["position"], waiting["effective_at"]) == ("waiting", 1, None)
    assert Decimal(hub.court_a.get(f"/v1/cases/{case_id}").json()["ledger"]["secured"]) == 0

    # the waiting 60,000.00 reserves nothing: 80,000.00 more fits under the cap of 101,500.00
    free = hub.order(
        case_id=case_id,
        asset_id=assets[PROMOTE_FREE]["asset_id"],
        action="freeze",
        amount="80000.00",
        approved_by=hub.judge(),
    )
    assert hub.wait_order(free, {"effective", "rejected", "failed"})["status"] == "effective"
    assert Decimal(hub.court_a.get(f"/v1/cases/{case_id}").json()["ledger"]["secured"]) == Decimal("80000.00")
    try:
        set_clock_offset(hub.clock_file, (PROMOTE_AHEAD_DAYS_LEFT + 1) * DAY)
        promoted = hub.wait_order(held, {"effective", "partial"})
        assert "promoted" in _events(hub, held)
        assert dt.datetime.fromisoformat(promoted["effective_at"]) == lapse, "effective when the other lapsed"
        assert dt.datetime.fromisoformat(promoted["expires_at"]) == lapse + dt.timedelta(days=365)
        assert promoted["amount_controlled"] == "60000.00"
        # 140,000.00 now secured against 101,500.00: the court is told which control to release
        _wait_event(hub, held, "over_secured")
        (excess,) = [h for h in promoted_history(hub, held) if h["event"] == "over_secured"]
        assert (
            "38500.00" in excess["detail"] and f"release control {promoted['control_id']}" in excess["detail"]
        )
        _, seen = found(hub, PROMOTE_DEBTOR)
        assert [(c["court"], c["status"]) for c in seen[PROMOTE_HELD]["controls"]] == [
            ("court-a", "effective"),
            ("court-x", "expired"),
        ]
    finally:
        set_clock_offset(hub.clock_file, 0)


def promoted_history(hub: HubClient, order_id: str) -> list[dict[str, Any]]:
    history: list[dict[str, Any]] = hub.court_a.get(f"/v1/control-orders/{order_id}").json()["history"]
    return history
