"""The case ledger's rules without a broker: cap, waiting and promotion, deduction once, expiry."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from schemas.models import AssetRef, Case, ControlOrderRequested, ControlOutcome, PromotedControl
from streams import ledger as lg

T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


def case(owed: str = "100000.00", costs: str = "1500.00") -> Case:
    return Case(
        case_number="(2026)鄂0111执1号",
        applicant={"name": "甲"},
        debtors=[{"name": "赵德明", "id_type": "resident_id", "id_number": "110101198001010010"}],
        amount_owed=owed,
        costs=costs,
        case_id="case_1",
        court_id="court-a",
        created_at=T0,
    )


def order(
    order_id: str,
    action: str,
    asset: str = "bank:icbc/deposit/A1",
    amount: str | None = None,
    kind: str = "deposit",
    value: str = "500000.00",
) -> ControlOrderRequested:
    agency, _, ref = asset.split("/")
    return ControlOrderRequested(
        order_id=order_id,
        case_id="case_1",
        court_id="court-a",
        asset=AssetRef(asset_id=asset, agency=agency, kind=kind, ref=ref, value=value),
        action=action,
        amount=amount,
        approved_by="judge-1",
        requested_at=T0,
        idempotency_key=order_id,
    )


def outcome(order_id: str, result: str, key: str, **kw: object) -> ControlOutcome:
    base = {
        "order_id": order_id,
        "case_id": "case_1",
        "court_id": "court-a",
        "agency": "bank:icbc",
        "asset_ref": "A1",
        "action": "freeze",
        "outcome": result,
        "decided_at": T0,
        "idempotency_key": key,
    }
    return ControlOutcome.model_validate({**base, **kw})


def test_freezes_beyond_the_cap_are_refused_with_the_reason() -> None:
    led = lg.new_ledger(case())  # cap 101,500
    cmds = []
    for i, bank in enumerate(("icbc", "ccb", "boc")):
        cmd, events = lg.accept_order(
            led, order(f"o{i}", "freeze", f"bank:{bank}/deposit/A{i}", "60000.00"), T0
        )
        cmds.append((cmd, events))
    assert cmds[0][0] is not None and cmds[0][1] == []
    for cmd, events in cmds[1:]:
        assert cmd is None
        assert events[0].kind == "rejected" and "over the case's cap" in (events[0].detail or "")
    assert lg.secured(led) == Decimal("60000.00")
    cmd, _ = lg.accept_order(led, order("o4", "freeze", "bank:ccb/deposit/B", "41500.00"), T0)
    assert cmd is not None and lg.remaining(led) == 0


def test_partial_freeze_secures_only_what_was_frozen() -> None:
    led = lg.new_ledger(case())
    lg.accept_order(led, order("o1", "freeze", amount="50000.00"), T0)
    [event] = lg.apply_outcome(
        led,
        outcome(
            "o1",
            "partial",
            "k1",
            amount_controlled="3000.00",
            control_id="c1",
            effective_at=T0,
            expires_at=T0 + dt.timedelta(days=365),
        ),
        T0,
    )
    assert event.kind == "partial" and event.order.amount_controlled == Decimal("3000.00")
    assert lg.secured(led) == Decimal("3000.00")


def test_indivisible_asset_may_be_seized_whole_beyond_the_remainder() -> None:
    led = lg.new_ledger(case())
    cmd, events = lg.accept_order(
        led, order("o1", "seize", "real_estate/real_estate/R1", kind="real_estate", value="2000000.00"), T0
    )
    assert cmd is not None and events == []
    assert "indivisible" in led["orders"]["o1"]["reason"]
    _, events = lg.accept_order(
        led, order("o2", "seize", "police/vehicle/V1", kind="vehicle", value="50000.00"), T0
    )
    assert events[0].kind == "rejected" and "fully secured" in (events[0].detail or "")


def test_waiting_then_promoted_tells_the_court_promoted() -> None:
    led = lg.new_ledger(case())
    lg.accept_order(
        led, order("o1", "seize", "land/land_use_right/L1", kind="land_use_right", value="9000.00"), T0
    )
    [waiting] = lg.apply_outcome(led, outcome("o1", "waiting", "k1", position=1, control_id="c1"), T0)
    assert waiting.kind == "waiting" and waiting.order.position == 1
    t1 = T0 + dt.timedelta(days=10)
    [promoted] = lg.apply_outcome(
        led,
        outcome("o1", "effective", "c1/promoted", effective_at=t1, expires_at=t1 + dt.timedelta(days=1095)),
        t1,
    )
    assert promoted.kind == "promoted" and promoted.order.effective_at == t1 and promoted.order.position == 0


def test_deduction_is_applied_once_and_lowers_what_is_owed() -> None:
    led = lg.new_ledger(case())
    lg.accept_order(led, order("f1", "freeze", amount="20000.00"), T0)
    lg.apply_outcome(
        led,
        outcome(
            "f1",
            "effective",
            "k1",
            amount_controlled="20000.00",
            control_id="c1",
            effective_at=T0,
            expires_at=T0 + dt.timedelta(days=365),
        ),
        T0,
    )
    cmd, _ = lg.accept_order(led, order("d1", "deduct", amount="5000.00"), T0)
    assert cmd is not None and cmd.control_id == "c1"
    # redelivered before the agency answered: the same command again (it may have been lost with the
    # crash that caused the redelivery); the agency is idempotent by order id
    again, _ = lg.accept_order(led, order("d1", "deduct", amount="5000.00"), T0)
    assert again == cmd
    done = outcome(
        "d1", "deducted", "d1/deducted", action="deduct", amount_deducted="5000.00", control_id="c1"
    )
    event, on_freeze = lg.apply_outcome(led, done, T0)
    assert lg.apply_outcome(led, done, T0) == []
    assert lg.accept_order(led, order("d1", "deduct", amount="5000.00"), T0) == (None, [])
    assert event.kind == "deducted" and led["deducted"] == "5000.00"
    assert on_freeze.order_id == "f1" and on_freeze.order.amount_controlled == Decimal("15000.00")
    assert led["orders"]["f1"]["amount_controlled"] == "15000.00"
    assert led["funds"] == [{"order_id": "d1", "amount": "5000.00", "at": T0.isoformat()}]
    _, refused = lg.accept_order(led, order("d2", "deduct", amount="15000.01"), T0)
    assert refused[0].kind == "rejected" and "exceeds the frozen" in (refused[0].detail or "")


def test_reminder_comes_before_expiry_and_expiry_notifies_the_agency() -> None:
    led = lg.new_ledger(case())
    lg.accept_order(led, order("f1", "freeze", amount="1000.00"), T0)
    expires = T0 + dt.timedelta(days=365)
    lg.apply_outcome(
        led,
        outcome(
            "f1",
            "effective",
            "k1",
            amount_controlled="1000.00",
            control_id="c1",
            effective_at=T0,
            expires_at=expires,
        ),
        T0,
    )
    assert lg.due_ticks(led, expires - dt.timedelta(days=31), 30) == []
    [remind] = lg.due_ticks(led, expires - dt.timedelta(days=29), 30)
    assert remind.kind == "remind"
    cmd, [expiring] = lg.apply_tick(led, remind, remind.at, 30)
    assert cmd is None and expiring.kind == "expiring"
    [expire] = lg.due_ticks(led, expires, 30)
    cmd, events = lg.apply_tick(led, expire, expires, 30)
    assert cmd is not None and cmd.action == "expire" and cmd.control_id == "c1" and events == []
    [expired] = lg.apply_outcome(led, outcome("f1:expire", "expired", "x1", action="expire"), expires)
    assert expired.kind == "expired" and lg.secured(led) == 0


def test_renewal_runs_on_from_the_old_expiry_and_rearms_the_reminder() -> None:
    led = lg.new_ledger(case())
    lg.accept_order(led, order("f1", "freeze", amount="1000.00"), T0)
    expires = T0 + dt.timedelta(days=365)
    lg.apply_outcome(
        led,
        outcome(
            "f1",
            "effective",
            "k1",
            amount_controlled="1000.00",
            control_id="c1",
            effective_at=T0,
            expires_at=expires,
        ),
        T0,
    )
    led["orders"]["f1"]["reminded"] = True
    cmd, _ = lg.accept_order(led, order("r1", "renew"), T0)
    assert cmd is not None and cmd.period_days == 365
    new_expiry = expires + dt.timedelta(days=365)
    event, on_freeze = lg.apply_outcome(
        led, outcome("r1", "renewed", "r1/k", action="renew", expires_at=new_expiry), T0
    )
    assert event.kind == on_freeze.kind == "renewed" and on_freeze.order.expires_at == new_expiry
    assert led["orders"]["f1"]["expires_at"] == new_expiry.isoformat() and not led["orders"]["f1"]["reminded"]


def test_orders_without_a_control_in_force_are_refused() -> None:
    led = lg.new_ledger(case())
    _, events = lg.accept_order(led, order("r1", "release"), T0)
    assert events[0].kind == "rejected" and "no control of this case" in (events[0].detail or "")
    _, events = lg.accept_order(led, order("s1", "seize"), T0)
    assert events[0].kind == "rejected" and "does not apply to deposit" in (events[0].detail or "")


def test_event_ids_are_stable_for_the_same_outcome() -> None:
    a, b = lg.new_ledger(case()), lg.new_ledger(case())
    for led in (a, b):
        lg.accept_order(led, order("o1", "freeze", amount="10.00"), T0)
    ev_a = lg.apply_outcome(a, outcome("o1", "effective", "k1", amount_controlled="10.00"), T0)
    ev_b = lg.apply_outcome(b, outcome("o1", "effective", "k1", amount_controlled="10.00"), T0)
    assert ev_a[0].event_id == ev_b[0].event_id


def test_promoted_control_model_round_trips() -> None:
    p = PromotedControl(control_id="c9", order_id="o9", case_id="case_9", court="court-b", effective_at=T0)
    assert PromotedControl.model_validate_json(p.model_dump_json()) == p


def test_release_tells_the_court_about_both_orders() -> None:
    led = lg.new_ledger(case())
    lg.accept_order(led, order("f1", "freeze", amount="10.00"), T0)
    lg.apply_outcome(led, outcome("f1", "effective", "k1", amount_controlled="10.00", control_id="c1"), T0)
    lg.accept_order(led, order("r1", "release"), T0)
    events = lg.apply_outcome(led, outcome("r1", "released", "r1/k", action="release"), T0)
    assert {(e.order_id, e.kind, e.order.status) for e in events} == {
        ("r1", "released", "released"),
        ("f1", "released", "released"),
    }
    assert lg.secured(led) == 0


def deposit(asset: str, value: str, available: str | None = None) -> AssetRef:
    agency, _, ref = asset.split("/")
    return AssetRef(asset_id=asset, agency=agency, kind="deposit", ref=ref, value=value, available=available)


def test_a_waiting_control_secures_nothing_until_it_takes_effect() -> None:
    led = lg.new_ledger(case())  # cap 101,500.00
    lg.accept_order(led, order("o1", "freeze", "bank:icbc/deposit/A1", "60000.00"), T0)
    lapse = T0 + dt.timedelta(days=40)
    [waiting] = lg.apply_outcome(
        led, outcome("o1", "waiting", "k1", position=1, control_id="c1", ahead_expires_at=lapse), T0
    )
    assert waiting.kind == "waiting" and "secures nothing" in (waiting.detail or "")
    assert lg.secured(led) == 0 and lg.remaining(led) == Decimal("101500.00")
    cmd, events = lg.accept_order(led, order("o2", "freeze", "bank:ccb/deposit/B1", "80000.00"), T0)
    assert cmd is not None and events == [], "the waiting freeze reserves nothing against the cap"
    lg.apply_outcome(
        led,
        outcome("o2", "effective", "k2", control_id="c2", amount_controlled="80000.00", effective_at=T0),
        T0,
    )
    assert lg.secured(led) == Decimal("80000.00")


def test_a_waiting_control_is_checked_when_the_one_ahead_ends_and_promoted_once() -> None:
    led = lg.new_ledger(case())
    lg.accept_order(led, order("o1", "freeze", "bank:icbc/deposit/A1", "60000.00"), T0)
    lapse = T0 + dt.timedelta(days=40)
    lg.apply_outcome(
        led, outcome("o1", "waiting", "k1", position=1, control_id="c1", ahead_expires_at=lapse), T0
    )
    lg.accept_order(led, order("o2", "freeze", "bank:ccb/deposit/B1", "80000.00"), T0)
    lg.apply_outcome(
        led,
        outcome("o2", "effective", "k2", control_id="c2", amount_controlled="80000.00", effective_at=T0),
        T0,
    )
    assert lg.due_ticks(led, lapse - dt.timedelta(seconds=1), 30) == []
    [check] = lg.due_ticks(led, lapse, 30)
    assert (check.kind, check.order_id, check.due) == ("check", "o1", lapse)
    cmd, events = lg.apply_tick(led, check, lapse, 30)
    assert cmd is not None and events == []
    assert (cmd.action, cmd.control_id, cmd.order_id) == ("status", "c1", "o1:status")
    assert lg.due_ticks(led, lapse, 30) == [], "one check per instant"

    # the one ahead was renewed: still waiting, ask again at its new end
    later = lapse + dt.timedelta(days=365)
    still = outcome(
        "o1:status", "waiting", cmd.idempotency_key, action="status", position=1, ahead_expires_at=later
    )
    assert (
        lg.apply_outcome(
            led,
            still,
            lapse,
        )
        == []
    )
    [again] = lg.due_ticks(led, later, 30)
    cmd, _ = lg.apply_tick(led, again, later, 30)
    assert cmd is not None
    took = outcome(
        "o1:status",
        "effective",
        cmd.idempotency_key,
        action="status",
        control_id="c1",
        amount_controlled="60000.00",
        effective_at=later,
        expires_at=later + dt.timedelta(days=365),
    )
    promoted, excess = lg.apply_outcome(led, took, later)
    assert promoted.kind == "promoted" and promoted.order.effective_at == later
    assert promoted.order.amount_controlled == Decimal("60000.00")
    # 60,000 + 80,000 secured against a cap of 101,500: 38,500 too much; releasing o1 ends it
    assert excess.kind == "over_secured" and excess.order_id == "o1"
    assert "38500.00" in (excess.detail or "") and "release control c1" in (excess.detail or "")
    assert lg.excess_to_release(led) == (Decimal("38500.00"), led["orders"]["o1"])
    # the same promotion reported by the expiry notice of the control ahead is not told twice
    note = outcome(
        "o1", "effective", "c1/promoted/x", control_id="c1", effective_at=later, amount_controlled="60000.00"
    )
    assert lg.apply_outcome(led, note, later) == []


def test_excess_names_the_largest_control_the_others_cover_without() -> None:
    led = lg.new_ledger(case(owed="1000.00", costs="0.00"))
    for i, amount in enumerate(("600.00", "400.00")):
        lg.accept_order(led, order(f"o{i}", "freeze", f"bank:icbc/deposit/A{i}", amount), T0)
        lg.apply_outcome(
            led, outcome(f"o{i}", "effective", f"k{i}", control_id=f"c{i}", amount_controlled=amount), T0
        )
    assert lg.excess_to_release(led) is None
    led["cap"] = "100.00"  # e.g. most was paid: 900.00 in excess; either freeze alone covers the rest
    excess, advised = lg.excess_to_release(led) or (None, None)
    assert excess == Decimal("900.00") and advised is not None and advised["order_id"] == "o0"


def test_over_seizure_is_refused_while_found_deposits_would_cover_the_remainder() -> None:
    led = lg.new_ledger(case(owed="10000.00", costs="0.00"))
    flat = order("s1", "seize", "real_estate/real_estate/F1", kind="real_estate", value="1850000.00")
    flat.found_deposits = [deposit("bank:ccb/deposit/D1", "86500.00", "86500.00")]
    cmd, [refused] = lg.accept_order(led, flat, T0)
    assert cmd is None and refused.kind == "rejected"
    assert "bank:ccb/deposit/D1" in (refused.detail or "") and "86500.00" in (refused.detail or "")
    assert "10000.00" in (refused.detail or "")
    cmd, events = lg.accept_order(led, order("f1", "freeze", "bank:ccb/deposit/D1", "10000.00"), T0)
    assert cmd is not None and events == [] and lg.remaining(led) == 0


def test_an_allowed_over_seizure_says_why_and_keeps_saying_it_after_the_agency_answers() -> None:
    led = lg.new_ledger(case(owed="10000.00", costs="0.00"))
    lg.accept_order(led, order("f1", "freeze", "bank:ccb/deposit/D1", "4000.00"), T0)
    flat = order("s1", "seize", "real_estate/real_estate/F1", kind="real_estate", value="1850000.00")
    # the only other deposit found holds too little to cover the 6,000.00 left
    flat.found_deposits = [
        deposit("bank:ccb/deposit/D1", "86500.00"),
        deposit("bank:icbc/deposit/D2", "9000.00", "500.00"),
    ]
    cmd, events = lg.accept_order(led, flat, T0)
    assert cmd is not None and events == [] and cmd.amount is None
    reason = led["orders"]["s1"]["reason"]
    assert "6000.00" in reason and "500.00" in reason and "nothing divisible would do" in reason
    [effective] = lg.apply_outcome(
        led,
        outcome("s1", "effective", "k", action="seize", control_id="R1", effective_at=T0, reason=None),
        T0,
    )
    assert effective.order.reason == reason
    assert lg.secured(led) == Decimal("1854000.00")


def test_an_equity_freeze_carries_the_capital_asked_and_secures_that_share_of_the_stake() -> None:
    led = lg.new_ledger(case(owed="1000000.00", costs="0.00"))
    stake = order("e1", "freeze", "commerce/equity/91420111MA4LQ2R7X1", "150000.00", "equity", "400000.00")
    stake.asset.capital = Decimal("300000.00")
    cmd, _ = lg.accept_order(led, stake, T0)
    assert cmd is not None and cmd.amount == Decimal("150000.00"), "the capital to freeze reaches the agency"
    assert lg.secured(led) == Decimal("200000.00"), "half the capital: half the stake's stated value"
    [effective] = lg.apply_outcome(
        led,
        outcome("e1", "effective", "k", control_id="SJ-1", amount_controlled="150000.00", reason="frozen"),
        T0,
    )
    assert effective.order.amount_controlled == Decimal("150000.00")
    assert lg.secured(led) == Decimal("200000.00")


def test_an_indivisible_asset_allowed_beyond_the_cap_is_no_excess_when_promoted() -> None:
    led = lg.new_ledger(case())
    flat = order("s1", "seize", "real_estate/real_estate/F1", kind="real_estate", value="1200000.00")
    lg.accept_order(led, flat, T0)  # nothing divisible found: allowed whole
    lg.apply_outcome(led, outcome("s1", "waiting", "k1", action="seize", position=1, control_id="R1"), T0)
    events = lg.apply_outcome(
        led, outcome("s1", "effective", "R1/promoted", action="seize", control_id="R1", effective_at=T0), T0
    )
    assert [e.kind for e in events] == ["promoted"]
    assert lg.excess_to_release(led) is None
    # a deposit freeze that was waiting before the flat, promoted after it, is redundant: the flat
    # alone covers what is owed, so that freeze is the one to release
    led["orders"]["f1"] = {**led["orders"]["s1"], "order_id": "f1", "asset_id": "bank:icbc/deposit/A1"}
    led["orders"]["f1"].update(action="freeze", kind="deposit", control_id="C1", reserved="1000.00")
    excess, advised = lg.excess_to_release(led) or (None, None)
    assert excess == Decimal("1099500.00") and advised is not None and advised["order_id"] == "f1"


def test_a_check_the_agency_cannot_answer_yet_is_asked_again_later() -> None:
    led = lg.new_ledger(case())
    lg.accept_order(led, order("o1", "freeze", "bank:icbc/deposit/A1", "600.00"), T0)
    lapse = T0 + dt.timedelta(days=40)
    lg.apply_outcome(
        led, outcome("o1", "waiting", "k1", position=1, control_id="c1", ahead_expires_at=lapse), T0
    )
    [check] = lg.due_ticks(led, lapse, 30)
    cmd, _ = lg.apply_tick(led, check, lapse, 30)
    assert cmd is not None
    # the agency's clock has not reached the lapse yet: it still names the same end
    same = outcome(
        "o1:status", "waiting", cmd.idempotency_key, action="status", position=1, ahead_expires_at=lapse
    )
    assert lg.apply_outcome(led, same, lapse) == []
    assert lg.due_ticks(led, lapse + dt.timedelta(minutes=9), 30) == []
    [again] = lg.due_ticks(led, lapse + dt.timedelta(minutes=10), 30)
    assert again.kind == "check" and again.due == lapse + dt.timedelta(minutes=10)
    # an unreachable agency is asked again the same way
    cmd, _ = lg.apply_tick(led, again, again.at, 30)
    assert cmd is not None
    failed = outcome("o1:status", "failed", f"{cmd.idempotency_key}/failed", action="status")
    assert lg.apply_outcome(led, failed, again.at) == []
    assert lg.due_ticks(led, again.at + dt.timedelta(minutes=10), 30)[0].kind == "check"
