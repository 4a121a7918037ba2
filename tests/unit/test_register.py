"""A registry's control register without HTTP: lapse by its clock, promotion at the lapse instant,
status reads, renewal cap, and its SQLite file across a restart."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from registries.controls import ControlRegister, Order
from registries.records import Control, Holding, Owner

DAY = dt.timedelta(days=1)
T0 = dt.datetime(2024, 3, 1, 2, 0, tzinfo=dt.UTC)
OWNER = Owner("甲", "resident_id", "110101198001010010")


def flat(*controls: Control) -> Holding:
    return Holding("real_estate", "real_estate", "F-1", Decimal("900000.00"), OWNER, controls=list(controls))


def test_lapses_chain_in_order_each_promoting_at_its_own_instant() -> None:
    # court-x in effect from T0 (3 years); court-y waiting behind it, registered 30 days later
    asset = flat(
        Control("court-x", "seize", None, T0, None, 0, "effective"),
        Control("court-y", "seize", None, T0 + 30 * DAY, None, 1, "waiting"),
    )
    register = ControlRegister([asset], "T")
    x_ends = T0 + 1095 * DAY
    y_ends = x_ends + 1095 * DAY  # court-y's own period starts when court-x lapsed
    _, controls = register.current(asset, x_ends - DAY)
    assert [(c.court, c.status) for c in controls] == [("court-x", "effective"), ("court-y", "waiting")]
    _, controls = register.current(asset, y_ends + DAY)  # nobody looked in between
    assert [(c.court, c.status, c.effective_at, c.expires_at) for c in controls] == [
        ("court-x", "expired", T0, x_ends),
        ("court-y", "expired", x_ends, y_ends),
    ]
    d = register.execute(Order("o-1", "seize", "F-1", "court-a"), y_ends + DAY)
    assert (d.outcome, d.position) == ("effective", 0), "lapsed controls block nothing"


def test_status_reads_are_not_remembered_and_renewals_leave_no_more_than_the_maximum_ahead(
    tmp_path: Path,
) -> None:
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    asset = flat(Control("court-x", "seize", None, now - 1000 * DAY, None, 0, "effective"))
    path = tmp_path / "real_estate.db"
    register = ControlRegister([asset], "T", path)
    waiting = register.execute(Order("o-1", "seize", "F-1", "court-a", period_days=100), now)
    lapse = now + 95 * DAY
    assert (waiting.outcome, waiting.ahead_expires_at) == ("waiting", lapse)
    ask = Order("o-1:status", "status", "F-1", "court-a", control_id=waiting.control_id)
    assert register.execute(ask, now).outcome == "waiting"
    took = register.execute(ask, lapse + DAY)
    assert (took.outcome, took.effective_at, took.expires_at) == ("effective", lapse, lapse + 100 * DAY)

    renew = Order("o-2", "renew", "F-1", "court-a", control_id=waiting.control_id, period_days=1095)
    at = lapse + 2 * DAY
    renewed = register.execute(renew, at)
    assert renewed.outcome == "renewed" and renewed.expires_at == at + 1095 * DAY
    assert "renewal capped" in (renewed.reason or "")
    register.close()

    # a restart over the same file: the control, the lapse and the decisions are all still there
    restarted = flat(Control("court-x", "seize", None, now - 1000 * DAY, None, 0, "effective"))
    again = ControlRegister([restarted], "T", path)
    assert again.execute(renew, at + 50 * DAY) == renewed
    _, controls = again.current(restarted, at)
    assert [(c.court, c.status, c.expires_at) for c in controls] == [
        ("court-a", "effective", renewed.expires_at),
        ("court-x", "expired", lapse),
    ]
    again.close()
