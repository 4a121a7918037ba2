"""The agency table: every list of agencies, kinds and rules derives from ``schemas.agencies``, and
every agency type has its registry API and connector adapter where the table says."""

from __future__ import annotations

import pytest

from connectors.adapter import AgencyAdapter
from connectors.registry_adapters import adapter_class, build_adapter
from hub.settings import REGISTRY_PORT_OFFSETS, HubSettings
from registries.api import RegistryApi
from registries.app import registry_api
from registries.controls import MAX_PERIOD_DAYS as REGISTER_PERIODS
from registries.controls import REGISTER_ACTION as REGISTER_ACTIONS
from schemas.agencies import (
    AGENCY_TYPES,
    ASSET_KIND_BY_AGENCY_TYPE,
    CONTROL_ACTIONS_BY_KIND,
    DIVISIBLE_KINDS,
    FIXED_AGENCIES,
    KIND_RULES,
    MAX_PERIOD_DAYS,
    AgencyType,
    AssetKind,
    class_stem,
    expand_agencies,
)
from schemas.models import AssetRecord
from streams.ledger.state import INDIVISIBLE


def test_every_agency_type_and_every_asset_kind_is_in_the_table() -> None:
    assert set(AGENCY_TYPES) == set(AgencyType)
    assert set(KIND_RULES) == set(AssetKind)
    assert set(ASSET_KIND_BY_AGENCY_TYPE.values()) == set(AssetKind)  # each kind has its agency


@pytest.mark.parametrize("kind", list(AgencyType))
def test_each_agency_type_has_its_registry_api_and_adapter(kind: AgencyType) -> None:
    api = registry_api(kind)
    assert issubclass(api, RegistryApi) and api.__name__ == f"{class_stem(kind)}Api"
    adapter = adapter_class(kind)
    assert issubclass(adapter, AgencyAdapter) and adapter.__name__ == f"{class_stem(kind)}Adapter"


def test_class_stem() -> None:
    assert class_stem(AgencyType.real_estate) == "RealEstate"
    assert class_stem(AgencyType.police) == "Police"


@pytest.mark.parametrize("agency", [*FIXED_AGENCIES, "bank:icbc"])
def test_every_agency_gets_its_own_adapter_and_registry_port(agency: str) -> None:
    settings = HubSettings(registry_base_port=9000)
    adapter = build_adapter(agency, settings)
    assert adapter.agency == agency
    ports = {settings.registry_port(a) for a in settings.agencies}
    assert len(ports) == len(settings.agencies)  # no two registries share a port
    assert set(REGISTRY_PORT_OFFSETS) == set(FIXED_AGENCIES)


def test_default_inquiry_asks_every_agency_of_the_table() -> None:
    assert expand_agencies(None, ["icbc", "ccb"]) == [*FIXED_AGENCIES, "bank:icbc", "bank:ccb"]
    assert HubSettings(banks="icbc").agencies == [*FIXED_AGENCIES, "bank:icbc"]
    assert {str(t) for t in AgencyType} - {"bank"} == set(FIXED_AGENCIES)


def test_derived_rules_agree_with_the_table() -> None:
    for kind, rules in KIND_RULES.items():
        assert CONTROL_ACTIONS_BY_KIND[kind] == rules.actions
        assert MAX_PERIOD_DAYS[kind] == REGISTER_PERIODS[kind] == rules.max_period_days
        assert REGISTER_ACTIONS[kind] == rules.registers_with and rules.registers_with in rules.actions
        assert (kind in DIVISIBLE_KINDS) == rules.divisible == (kind not in INDIVISIBLE)
    # DOMAIN.md rule 2: deposits 1 year, vehicles 2, real estate, land and other property rights 3
    assert MAX_PERIOD_DAYS[AssetKind.deposit] == 365
    assert MAX_PERIOD_DAYS[AssetKind.vehicle] == 730
    assert MAX_PERIOD_DAYS[AssetKind.real_estate] == MAX_PERIOD_DAYS[AssetKind.equity] == 1095
    assert "deduct" in CONTROL_ACTIONS_BY_KIND[AssetKind.deposit]


def test_every_asset_kind_has_its_record_model() -> None:
    from typing import get_args

    models = get_args(get_args(AssetRecord)[0])
    assert {m.model_fields["kind"].default for m in models} == set(AssetKind)
