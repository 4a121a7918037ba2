"""Control orders against every agency: the real registry app served by uvicorn on a free localhost
port, driven by that agency's real adapter (``execute_control``, ``inquire``) over real HTTP.

Each registry keeps its own register of controls and enforces the rules itself (``registries.controls``):
first control in effect, later ones waiting in registration order, promotion on release/expiry with
the promoted control's period starting then, renewal from the old expiry, legal maximum periods,
idempotency by order id, partial freezes and deductions on deposits. Registry time comes from the
hub clock (``HUB_CLOCK_FILE``), moved here with ``set_clock_offset``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from decimal import Decimal
from typing import Any

import httpx
import pytest

from connectors.registry_adapters import build_adapter
from hub.errors import PermanentRegistryError
from hub.settings import HubSettings
from registries.controls import MAX_PERIOD_DAYS, ControlRegister, Order
from registries.records import Control, Holding, Owner
from schemas.identifiers import resident_id_check
from schemas.models import ControlCommand, utcnow

from .registry_harness import (  # noqa: F401  (the fixtures registry, bank, servers)
    DAY,
    OWNER,
    Registry,
    _amount,
    _within,
    bank_fixture,
    registry_fixture,
    servers_fixture,
)

pytestmark = pytest.mark.integration


def test_first_is_effective_later_ones_wait_and_release_promotes_from_release_time(
    registry: Registry,
) -> None:
    before = utcnow()
    a = registry.execute(
        registry.command("queue", registry.register, amount=_amount(registry, "10000.00"), period=100)
    )
    after = utcnow()
    assert (a.outcome, a.position, a.action) == ("effective", 0, registry.register)
    assert a.control_id and a.agency == registry.agency and a.asset_ref == registry.ref("queue")
    _within(a.effective_at, dt.timedelta(0), before, after)
    assert a.effective_at is not None and a.expires_at == a.effective_at + 100 * DAY
    if registry.divisible:
        assert a.amount_controlled == Decimal("10000.00")

    b = registry.execute(
        registry.command(
            "queue", registry.register, court="court-b", amount=_amount(registry, "4000.00"), period=50
        )
    )
    assert (b.outcome, b.position, b.effective_at, b.expires_at) == ("waiting", 1, None, None)
    c = registry.execute(
        registry.command(
            "queue", registry.register, court="court-c", amount=_amount(registry, "8000.00"), period=60
        )
    )
    assert (c.outcome, c.position) == ("waiting", 2)

    asset = registry.asset("queue")
    assert [(x.court, x.status, x.position, x.control_id) for x in asset.controls] == [
        ("court-a", "effective", 0, a.control_id),
        ("court-b", "waiting", 1, b.control_id),
        ("court-c", "waiting", 2, c.control_id),
    ]
    assert asset.controls[0].registered_at == a.effective_at

    shift = registry.move_clock(10)
    before = utcnow()
    released = registry.execute(registry.command("queue", "release", control_id=a.control_id))
    after = utcnow()
    assert released.outcome == "released" and released.control_id == a.control_id
    _within(released.decided_at, shift, before, after)
    first = released.promoted[0]
    assert (first.control_id, first.order_id, first.case_id, first.court) == (
        b.control_id,
        b.order_id,
        "case-court-b",
        "court-b",
    )
    assert first.effective_at == released.decided_at  # takes effect at the release, not at registration
    assert first.expires_at == released.decided_at + 50 * DAY  # its own period runs from then
    if registry.divisible:  # freezes take effect in order while money (or market value) lasts
        assert first.amount_controlled == Decimal("4000.00")
        (second,) = released.promoted[1:]
        assert (second.control_id, second.amount_controlled) == (c.control_id, Decimal("6000.00"))
        assert second.expires_at == released.decided_at + 60 * DAY
        expected = [("court-b", "effective", 0), ("court-c", "effective", 0)]
    else:
        assert len(released.promoted) == 1
        expected = [("court-b", "effective", 0), ("court-c", "waiting", 1)]
    asset = registry.asset("queue")
    assert [(x.court, x.status, x.position) for x in asset.controls] == expected


def test_renew_runs_on_from_the_old_expiry_and_periods_are_capped(registry: Registry) -> None:
    legal = MAX_PERIOD_DAYS[registry.kind]
    a = registry.execute(
        registry.command("renew", registry.register, amount=_amount(registry, "1000.00"), period=100)
    )
    assert a.outcome == "effective" and a.effective_at is not None
    assert a.expires_at == a.effective_at + 100 * DAY

    r1 = registry.execute(registry.command("renew", "renew", control_id=a.control_id, period=30))
    assert (r1.outcome, r1.control_id, r1.position) == ("renewed", a.control_id, 0)
    assert r1.expires_at == a.expires_at + 30 * DAY and r1.effective_at == a.effective_at
    # a longer period is cut to the legal maximum, and no more than that may lie ahead of today
    r2 = registry.execute(registry.command("renew", "renew", control_id=a.control_id, period=99999))
    assert r2.outcome == "renewed" and r2.expires_at == r2.decided_at + legal * DAY
    assert r2.expires_at is not None and r1.expires_at is not None
    assert r1.expires_at < r2.expires_at < r1.expires_at + legal * DAY
    assert r2.reason and f"capped at the legal maximum of {legal} days" in r2.reason
    assert "renewal capped" in r2.reason and "ahead of today" in r2.reason
    assert registry.asset("renew").controls[0].expires_at == r2.expires_at
    fresh = registry.execute(
        registry.command("cap", registry.register, amount=_amount(registry, "10.00"), period=99999)
    )
    assert fresh.effective_at is not None and fresh.expires_at == fresh.effective_at + legal * DAY
    assert fresh.reason and "capped" in fresh.reason and str(legal) in fresh.reason

    if registry.divisible:  # the whole balance is frozen by court-a after this
        registry.execute(registry.command("renew", "freeze", amount="9000.00"))
    waiting = registry.execute(
        registry.command("renew", registry.register, court="court-b", amount=_amount(registry, "500.00"))
    )
    assert waiting.outcome == "waiting"
    refused = registry.execute(
        registry.command("renew", "renew", court="court-b", control_id=waiting.control_id, period=10)
    )
    assert refused.outcome == "rejected" and "waiting" in (refused.reason or "")
    registry.execute(registry.command("renew", "release", control_id=a.control_id))
    refused = registry.execute(registry.command("renew", "renew", control_id=a.control_id, period=10))
    assert refused.outcome == "rejected" and "released" in (refused.reason or "")


def test_repeated_order_id_returns_the_first_outcome_and_changes_nothing(registry: Registry) -> None:
    first_cmd = registry.command(
        "idem", registry.register, order="order-idem-1", amount=_amount(registry, "100.00")
    )
    first = registry.execute(first_cmd)
    assert first.outcome == "effective"
    again = registry.execute(first_cmd)
    assert again.model_dump() == first.model_dump()
    # even a redelivery that differs (it should not) is answered by the first decision
    other = registry.command("idem", registry.register, order="order-idem-1", court="court-b")
    assert registry.execute(other).model_dump(exclude={"court_id", "case_id", "idempotency_key"}) == (
        first.model_dump(exclude={"court_id", "case_id", "idempotency_key"})
    )
    assert [x.control_id for x in registry.asset("idem").controls] == [first.control_id]

    release = registry.command("idem", "release", order="order-idem-2", control_id=first.control_id)
    released = registry.execute(release)
    assert released.outcome == "released"
    assert registry.execute(release).model_dump() == released.model_dump()
    assert registry.asset("idem").controls == []
    # a second release order is a no-op that says so
    noop = registry.execute(registry.command("idem", "release", control_id=first.control_id))
    assert noop.outcome == "released" and "already released" in (noop.reason or "")


def test_wrong_action_for_the_asset_kind_is_rejected(registry: Registry) -> None:
    wrong = "seize" if registry.register == "freeze" else "freeze"
    refused = registry.execute(registry.command("wrong", wrong, amount=_amount(registry, "100.00")))
    assert refused.outcome == "rejected" and refused.control_id is None
    assert registry.kind in (refused.reason or "") and registry.register in (refused.reason or "")
    assert registry.asset("wrong").controls == []
    if registry.divisible:
        no_amount = registry.execute(registry.command("wrong", "freeze"))
        assert no_amount.outcome == "rejected" and "amount" in (no_amount.reason or "")
    if registry.kind != "deposit":
        a = registry.execute(registry.command("wrong", registry.register, amount=_amount(registry, "100.00")))
        assert a.outcome == "effective"
        deduct = registry.execute(registry.command("wrong", "deduct", control_id=a.control_id, amount="1.00"))
        assert deduct.outcome == "rejected" and "deposits only" in (deduct.reason or "")


def test_unknown_asset_is_a_404_and_a_permanent_error(registry: Registry) -> None:
    with pytest.raises(PermanentRegistryError) as info:
        registry.execute(
            registry.command("no-such-asset", registry.register, amount=_amount(registry, "1.00"))
        )
    assert info.value.status_code == 404
    with pytest.raises(PermanentRegistryError) as info:
        registry.execute(registry.command("no-such-asset", "release", control_id="X-1"))
    assert info.value.status_code == 404
    with pytest.raises(PermanentRegistryError):  # a release without a control id is never sendable
        registry.execute(registry.command("queue", "release"))


def test_unknown_or_foreign_control_is_rejected_and_seeded_controls_queue_ahead(registry: Registry) -> None:
    (seeded,) = registry.asset("foreign").controls
    assert seeded.court == "court-x" and seeded.status == "effective" and seeded.control_id
    foreign = registry.execute(registry.command("foreign", "release", control_id=seeded.control_id))
    assert foreign.outcome == "rejected" and "another court" in (foreign.reason or "")
    unknown = registry.execute(registry.command("foreign", "release", control_id="NO-SUCH-CONTROL"))
    assert unknown.outcome == "rejected" and "NO-SUCH-CONTROL" in (unknown.reason or "")
    ours = registry.execute(
        registry.command("foreign", registry.register, amount=_amount(registry, "500.00"))
    )
    assert (ours.outcome, ours.position) == ("waiting", 1)  # a deposit fully frozen waits too
    assert [(x.court, x.position) for x in registry.asset("foreign").controls] == [
        ("court-x", 0),
        ("court-a", 1),
    ]


def test_expire_promotes_the_next_and_is_idempotent(registry: Registry) -> None:
    a = registry.execute(
        registry.command("expire", registry.register, amount=_amount(registry, "10000.00"), period=10)
    )
    b = registry.execute(
        registry.command(
            "expire", registry.register, court="court-b", amount=_amount(registry, "3000.00"), period=20
        )
    )
    assert (a.outcome, b.outcome) == ("effective", "waiting")
    early = registry.execute(registry.command("expire", "expire", control_id=a.control_id))
    assert early.outcome == "rejected" and "runs until" in (early.reason or "")

    registry.move_clock(11)
    expired = registry.execute(registry.command("expire", "expire", control_id=a.control_id))
    assert expired.outcome == "expired" and expired.expires_at == a.expires_at
    assert "lapsed by itself" in (expired.reason or "")
    (promoted,) = expired.promoted  # the notice reports what the lapse promoted
    assert (promoted.control_id, promoted.order_id, promoted.court) == (b.control_id, b.order_id, "court-b")
    assert promoted.effective_at == a.expires_at, "promoted at the lapse instant, not when someone looked"
    assert promoted.expires_at == promoted.effective_at + 20 * DAY

    again = registry.execute(registry.command("expire", "expire", control_id=a.control_id))
    assert again.outcome == "expired" and again.promoted == []
    renew = registry.execute(registry.command("expire", "renew", control_id=a.control_id, period=10))
    assert renew.outcome == "rejected"
    assert [(x.court, x.status, x.position, x.expires_at) for x in registry.asset("expire").controls] == [
        ("court-b", "effective", 0, promoted.expires_at),
        ("court-a", "expired", None, a.expires_at),
    ]


def test_registry_time_comes_from_the_hub_clock(registry: Registry) -> None:
    shift = registry.move_clock(400)
    before = utcnow()
    a = registry.execute(
        registry.command("clock", registry.register, amount=_amount(registry, "10.00"), period=30)
    )
    after = utcnow()
    assert a.outcome == "effective"
    _within(a.effective_at, shift, before, after)
    _within(a.decided_at, shift, before, after)
    assert a.effective_at is not None and a.expires_at == a.effective_at + 30 * DAY
    (control,) = registry.asset("clock").controls
    assert (control.registered_at, control.expires_at) == (a.effective_at, a.expires_at)
    # a control whose period ended by the registry clock can no longer be renewed
    registry.move_clock(431)
    lapsed = registry.execute(registry.command("clock", "renew", control_id=a.control_id, period=30))
    assert lapsed.outcome == "rejected" and "lapsed" in (lapsed.reason or "")


# ---------------------------------------------------------------- banks


def test_partial_freeze_states_the_real_amount_and_a_full_account_waits(bank: Registry) -> None:
    before = bank.asset("partial")  # 8000.00 with 2000.00 frozen by court-x
    assert before.available == Decimal("6000.00")
    partial = bank.execute(bank.command("partial", "freeze", amount="10000.00"))
    assert (partial.outcome, partial.position) == ("partial", 0)
    assert partial.amount_controlled == Decimal("6000.00")
    assert "6000.00 of 10000.00" in (partial.reason or "") and "not queued" in (partial.reason or "")

    waits = bank.execute(bank.command("partial", "freeze", court="court-b", amount="1000.00"))
    assert (waits.outcome, waits.position, waits.amount_controlled) == ("waiting", 1, None)
    account = bank.asset("partial")
    assert (account.value, account.available) == (Decimal("8000.00"), Decimal("0.00"))
    assert [(h.court, h.status, h.amount) for h in account.controls] == [
        ("court-x", "effective", Decimal("2000.00")),
        ("court-a", "effective", Decimal("6000.00")),  # never more than asked, never more than there
        ("court-b", "waiting", Decimal("1000.00")),
    ]


def test_deduct_moves_frozen_money_once(bank: Registry) -> None:
    freeze = bank.execute(bank.command("deduct", "freeze", amount="5000.00"))
    assert freeze.outcome == "effective"
    order = bank.command("deduct", "deduct", control_id=freeze.control_id, amount="2000.00")
    deducted = bank.execute(order)
    assert (deducted.outcome, deducted.amount_deducted, deducted.amount_controlled) == (
        "deducted",
        Decimal("2000.00"),
        Decimal("3000.00"),
    )
    assert bank.execute(order).model_dump() == deducted.model_dump()  # a redelivery moves nothing
    account = bank.asset("deduct")
    assert (account.value, account.available) == (Decimal("18000.00"), Decimal("15000.00"))
    assert [h.amount for h in account.controls] == [Decimal("3000.00")]

    above = bank.execute(bank.command("deduct", "deduct", control_id=freeze.control_id, amount="4000.00"))
    assert above.outcome == "rejected" and "exceeds" in (above.reason or "")
    foreign = bank.execute(
        bank.command("deduct", "deduct", court="court-b", control_id=freeze.control_id, amount="1.00")
    )
    assert foreign.outcome == "rejected" and "another court" in (foreign.reason or "")

    rest = bank.execute(bank.command("deduct", "deduct", control_id=freeze.control_id, amount="3000.00"))
    assert (rest.outcome, rest.amount_controlled) == ("deducted", Decimal("0.00"))
    assert "executed" in (rest.reason or "")
    account = bank.asset("deduct")
    assert (account.value, account.available, account.controls) == (
        Decimal("15000.00"),
        Decimal("15000.00"),
        [],
    )


# ---------------------------------------------------------------- the register itself


def test_seeded_queue_takes_available_money_first_and_shared_refs_are_refused() -> None:
    at = dt.datetime(2026, 1, 5, 2, 0, tzinfo=dt.UTC)
    owner = Owner("甲", "resident_id", OWNER.id_number)
    account = Holding(
        "bank:icbc",
        "deposit",
        "acct-1",
        Decimal("5000.00"),
        owner,
        controls=[
            Control("court-x", "freeze", Decimal("1000.00"), at, None, 0, "effective"),
            Control("court-y", "freeze", Decimal("3000.00"), at + DAY, None, 1, "waiting"),
        ],
    )
    stakes = [Holding("commerce", "equity", "91420111MA4LQ2R8X1", Decimal("1.00"), owner) for _ in range(2)]
    register = ControlRegister([account, *stakes], "T")
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    balance, controls = register.current(account, now)
    assert balance == Decimal("5000.00") and [c.position for c in controls] == [0, 1]
    assert controls[0].expires_at == at + 365 * DAY  # a seed without expiry gets the legal period

    d = register.execute(Order("o-1", "freeze", "acct-1", "court-a", amount=Decimal("2000.00")), now)
    # court-y's waiting 3000.00 came first (registered earlier); court-a gets the 1000.00 left
    assert (d.outcome, d.amount_controlled) == ("partial", Decimal("1000.00"))
    (promoted,) = d.promoted
    assert (promoted.court, promoted.amount, promoted.effective_at) == ("court-y", Decimal("3000.00"), now)
    assert promoted.order_id is None  # another court's control from seed data

    shared = register.execute(Order("o-2", "freeze", "91420111MA4LQ2R8X1", "court-a"), now)
    assert shared.outcome == "rejected" and "2 records" in (shared.reason or "")


def test_an_order_naming_the_owner_freezes_that_shareholders_stake() -> None:
    """Every stake in a company carries the company's code as its ref; the owner's id picks one."""
    ref = "91420111MA4LQ2R8X1"
    mine = Holding(
        "commerce", "equity", ref, Decimal("300000.00"), Owner("甲", "resident_id", OWNER.id_number)
    )
    other_id = "42010619800101002" + resident_id_check("42010619800101002")
    theirs = Holding("commerce", "equity", ref, Decimal("700000.00"), Owner("乙", "resident_id", other_id))
    register = ControlRegister([mine, theirs], "T")
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)

    d = register.execute(Order("o-1", "freeze", ref, "court-a", owner_id=OWNER.id_number.lower()), now)
    assert d.outcome == "effective"
    assert [c.court for c in register.current(mine, now)[1]] == ["court-a"]
    assert register.current(theirs, now)[1] == []


def test_the_commerce_adapter_names_the_owner_of_the_stake() -> None:
    sent: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(400, json={"success": False, "errorCode": "X", "errorMessage": "stop here"})

    adapter = build_adapter("commerce", HubSettings())
    command = ControlCommand(
        order_id="o-1",
        case_id="c",
        court_id="court-a",
        case_number="(2026)鄂0111执1号",
        agency="commerce",
        asset_kind="equity",
        asset_ref="91420111MA4LQ2R8X1",
        action="freeze",
        amount=Decimal("1000.00"),
        owner_id_number=OWNER.id_number,
        approved_by="judge",
        requested_at=utcnow(),
        idempotency_key="k",
    )

    async def run() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            with pytest.raises(PermanentRegistryError):
                await adapter.execute_control(client, command)

    asyncio.run(run())
    assert sent[0]["investorCertNo"] == OWNER.id_number
