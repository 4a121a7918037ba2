"""Securities accounts in the generated population and in fixture lines."""

from __future__ import annotations

from decimal import Decimal

import pytest

from registries import population
from registries.fixtures import FixtureError, parse_fixture_line
from registries.population import generate

from .test_securities import HOLDINGS, LINES, OWNER, _line


def test_the_population_gives_about_one_adult_in_six_a_securities_account() -> None:
    pop = generate(3, 3000)
    accounts = [h for h in pop.holdings if h.registry == "securities"]
    people = {p.key for p in pop.people}
    holders = {h.truth_owner for h in accounts if h.truth_owner in people}
    adults = [p for p in pop.people if p.birth_date.year <= 2008]
    assert 0.12 < len(holders) / len(adults) < 0.20
    assert any(h.truth_owner not in people for h in accounts)  # some companies hold accounts too
    assert len({h.ref for h in accounts}) == len(accounts)
    for h in accounts:
        assert h.kind == "securities" and h.ref.startswith("18") and len(h.ref) == 12
        positions = h.details["holdings"]
        assert h.value == sum((p["market_value"] for p in positions), Decimal("0.00"))
        assert all(p["quantity"] % 100 == 0 and len(p["code"]) == 6 for p in positions)
        assert all(c.action == "freeze" and c.amount is not None for c in h.controls)
    assert any(h.controls for h in accounts) and any(not h.details["holdings"] for h in accounts)


def test_securities_accounts_do_not_change_the_other_registries_records(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pop = generate(5, 400)
    monkeypatch.setattr(population._Generator, "securities_accounts", lambda self, people, companies: None)
    without = generate(5, 400)
    assert [h for h in pop.holdings if h.registry != "securities"] == without.holdings
    assert pop.households == without.households and pop.people == without.people
    assert any(h.registry == "securities" for h in pop.holdings)


def test_a_fixture_line_of_a_securities_account() -> None:
    holding = parse_fixture_line(LINES[0], 1)
    assert (holding.registry, holding.kind, holding.value) == (
        "securities",
        "securities",
        Decimal("205000.00"),
    )
    assert holding.details["holdings"][0] == {
        "code": "600519",
        "name": "贵州茅台",
        "quantity": 100,
        "market_value": Decimal("150000.00"),
    }
    with pytest.raises(FixtureError, match=r"not the holdings' market value 205000\.00"):
        parse_fixture_line(_line("1", OWNER, "1.00", asset={"holdings": HOLDINGS}), 7)
    with pytest.raises(FixtureError, match="quantity"):
        bad = [{"code": "600519", "quantity": -1, "market_value": "1.00"}]
        parse_fixture_line(_line("1", OWNER, "1.00", asset={"holdings": bad}), 8)
    with pytest.raises(FixtureError, match="not a control on securities"):
        parse_fixture_line(_line("1", OWNER, "1.00", controls=[{"court": "c", "action": "seize"}]), 9)
