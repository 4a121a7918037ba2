"""The case ledger with securities accounts: a freeze states the market value it secures (divisible,
like a deposit freeze), within the case's cap, for at most 3 years; securities are never deducted."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from streams import ledger as lg

from .test_ledger import T0, case, order, outcome

ACCOUNT = "securities/securities/180000000001"


def test_a_securities_freeze_reserves_the_value_asked_within_the_cap() -> None:
    led = lg.new_ledger(case())  # cap 101,500
    cmd, events = lg.accept_order(led, order("s0", "freeze", ACCOUNT, "120000.00", kind="securities"), T0)
    assert cmd is None and events[0].kind == "rejected"
    assert "over the case's cap" in (events[0].detail or "")
    cmd, events = lg.accept_order(led, order("s1", "freeze", ACCOUNT, "60000.00", kind="securities"), T0)
    assert cmd is not None and events == []
    assert (cmd.agency, cmd.asset_kind, cmd.amount, cmd.period_days) == (
        "securities",
        "securities",
        Decimal("60000.00"),
        1095,
    )
    assert lg.secured(led) == Decimal("60000.00")  # not the account's whole market value (500,000)
    # the depository froze less (the rest of the account was already frozen): only that is secured
    [event] = lg.apply_outcome(
        led,
        outcome(
            "s1",
            "partial",
            "k1",
            agency="securities",
            asset_ref="180000000001",
            amount_controlled="45000.00",
            control_id="ZQ-1",
            effective_at=T0,
            expires_at=T0 + dt.timedelta(days=1095),
        ),
        T0,
    )
    assert event.kind == "partial" and lg.secured(led) == Decimal("45000.00")


def test_securities_are_not_deducted_and_periods_stop_at_three_years() -> None:
    led = lg.new_ledger(case())
    ask = order("s1", "freeze", ACCOUNT, "1000.00", kind="securities")
    cmd, _ = lg.accept_order(led, ask.model_copy(update={"period_days": 5000}), T0)
    assert cmd is not None and cmd.period_days == 1095
    cmd, events = lg.accept_order(led, order("s2", "deduct", ACCOUNT, "500.00", kind="securities"), T0)
    assert cmd is None and "deduct does not apply to securities" in (events[0].detail or "")
