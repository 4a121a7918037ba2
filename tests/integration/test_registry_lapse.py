"""Registries lapse controls by themselves, answer what a control is now, freeze whole stakes, and
keep their registers across a restart: every agency's real registry app over real HTTP, driven by
its real adapter (``execute_control``, ``inquire``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from connectors.registry_adapters import build_adapter
from hub.clock import set_clock_offset
from registries.app import create_app
from registries.controls import MAX_PERIOD_DAYS

from .registry_harness import (  # noqa: F401  (the fixtures registry, servers)
    AGENCIES,
    DAY,
    Registry,
    _amount,
    _settings,
    planted_data,
    registry_fixture,
    serve,
    servers_fixture,
)

pytestmark = pytest.mark.integration


def test_a_control_past_its_period_has_lapsed_and_blocks_nothing(registry: Registry) -> None:
    legal = MAX_PERIOD_DAYS[registry.kind]
    registered = dt.datetime.fromisoformat("2021-05-01T09:00:00+08:00")
    (old,) = registry.asset("lapsed").controls  # court-x's, never renewed
    assert (old.court, old.status, old.position) == ("court-x", "expired", None)
    assert old.expires_at == registered + legal * DAY

    ours = registry.execute(
        registry.command("lapsed", registry.register, amount=_amount(registry, "3000.00"))
    )
    assert (ours.outcome, ours.position) == ("effective", 0), ours.reason
    if registry.divisible:
        assert ours.amount_controlled == Decimal("3000.00")
    assert [(c.court, c.status) for c in registry.asset("lapsed").controls] == [
        ("court-a", "effective"),
        ("court-x", "expired"),
    ]


def test_a_waiting_control_is_promoted_at_the_instant_the_one_ahead_lapses(registry: Registry) -> None:
    (ahead,) = registry.asset("status").controls  # court-x's, 20 days left
    assert ahead.status == "effective" and ahead.expires_at is not None
    waiting = registry.execute(
        registry.command("status", registry.register, amount=_amount(registry, "5000.00"), period=50)
    )
    assert (waiting.outcome, waiting.position) == ("waiting", 1)
    assert waiting.ahead_expires_at == ahead.expires_at

    ask = registry.command("status", "status", order="ord-status-1:status", control_id=waiting.control_id)
    still = registry.execute(ask)
    assert (still.outcome, still.position, still.ahead_expires_at) == ("waiting", 1, ahead.expires_at)

    registry.move_clock(21)
    now = registry.execute(ask)  # the same question again: a read is never answered from memory
    assert (now.outcome, now.position, now.control_id) == ("effective", 0, waiting.control_id)
    assert now.effective_at == ahead.expires_at, "its period starts when the one ahead lapsed"
    assert now.expires_at == ahead.expires_at + 50 * DAY
    if registry.divisible:
        assert now.amount_controlled == Decimal("5000.00")
    assert [(c.court, c.status) for c in registry.asset("status").controls] == [
        ("court-a", "effective"),
        ("court-x", "expired"),
    ]
    foreign = registry.execute(
        registry.command("status", "status", court="court-b", control_id=waiting.control_id)
    )
    assert foreign.outcome == "rejected" and "another court" in (foreign.reason or "")


@pytest.mark.parametrize("registry", ["commerce"], indirect=True)
def test_an_equity_freeze_freezes_subscribed_capital_of_the_stake(registry: Registry) -> None:
    above = registry.execute(registry.command("stake", "freeze", amount="400000.00"))
    assert above.outcome == "rejected" and "subscribed capital 300000.00" in (above.reason or "")
    frozen = registry.execute(registry.command("stake", "freeze", amount="100000.00"))
    assert frozen.outcome == "effective" and frozen.amount_controlled == Decimal("100000.00")
    assert "100000.00 of the stake's subscribed capital 300000.00 frozen" in (frozen.reason or "")
    (control,) = registry.asset("stake").controls
    assert control.amount == Decimal("100000.00")
    registry.execute(registry.command("stake", "release", control_id=frozen.control_id))
    whole = registry.execute(registry.command("stake", "freeze"))  # no amount: all of the capital
    assert whole.outcome == "effective" and whole.amount_controlled == Decimal("300000.00")


@pytest.mark.parametrize("agency", AGENCIES)
def test_a_restarted_registry_keeps_its_controls_and_its_decisions(agency: str, tmp_path: Path) -> None:
    clock_file = tmp_path / "clock"
    set_clock_offset(clock_file, 0.0)
    register = tmp_path / "registries" / "register.db"
    settings = _settings(clock_file=clock_file)

    def registry_at(url: str) -> Registry:
        return Registry(agency, build_adapter(agency, _settings(agency_urls={agency: url})), clock_file)

    # each start is a fresh app: the population regenerated, the fixtures re-read, the file kept
    with serve(create_app(agency, planted_data(tmp_path), settings, register)) as url:
        reg = registry_at(url)
        first_cmd = reg.command(
            "restart", reg.register, order="order-restart-1", amount=_amount(reg, "4000.00")
        )
        first = reg.execute(first_cmd)
        assert first.outcome == "effective"
        lapsed_before = reg.asset("lapsed").controls
    assert register.exists()

    with serve(create_app(agency, planted_data(tmp_path), settings, register)) as url:
        reg = registry_at(url)
        again = reg.execute(first_cmd)
        assert again.model_dump() == first.model_dump(), "the remembered decision survived"
        assert [(c.control_id, c.status) for c in reg.asset("restart").controls] == [
            (first.control_id, "effective")
        ]
        second = reg.execute(
            reg.command("restart", reg.register, court="court-b", amount=_amount(reg, "9000.00"))
        )
        if reg.divisible:  # 4,000.00 of the 10,000.00 is still frozen
            assert (second.outcome, second.amount_controlled) == ("partial", Decimal("6000.00"))
        else:
            assert (second.outcome, second.position) == ("waiting", 1), "the control is still in force"
        assert reg.asset("lapsed").controls == lapsed_before
