"""Planted fixture lines: a good file loads as written; each kind of bad line is refused by line."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from registries.fixtures import FixtureError, load_fixtures, parse_fixture_line

AGENCIES = ["police", "commerce", "real_estate", "land", "securities", "bank:icbc", "bank:ccb", "bank:boc"]
OWNER = {"name": "张伟", "id_type": "resident_id", "id_number": "420106750313049"}
GOOD: list[dict[str, Any]] = [
    {
        "registry": "bank:icbc",
        "owner": OWNER,
        "asset": {"kind": "deposit", "ref": "6222020000000001", "value": "80000.00", "branch": "武昌支行"},
        "controls": [
            {
                "court": "court-x",
                "action": "freeze",
                "amount": "20000.00",
                "registered_at": "2026-01-05T10:00:00+08:00",
            }
        ],
    },
    {
        "registry": "police",
        "owner": {**OWNER, "birth_date": "1975-03-13", "address": "武汉市武昌区"},
        "asset": {"kind": "vehicle", "ref": "鄂A12345", "value": "120000", "vin": "LSVAB2183E2000001"},
    },
    {
        "registry": "real_estate",
        "owner": {"name": "武汉某某有限公司", "id_type": "org_code", "id_number": "86012904-X"},
        "asset": {
            "kind": "real_estate",
            "ref": "鄂(2019)武汉市不动产权第0012345号",
            "value": "2100000.00",
            "area_m2": 89.5,
            "mortgages": [{"mortgagee": "某银行", "amount": "500000.00"}],
        },
    },
    {
        "registry": "land",
        "owner": {"name": "李四", "id_type": "resident_id", "id_number": "not even a number"},
        "asset": {
            "kind": "land_use_right",
            "ref": "420106001002GB00001",
            "value": "450000.00",
            "term_ends": "2066-05-01",
        },
    },
    {
        "registry": "commerce",
        "owner": OWNER,
        "asset": {
            "kind": "equity",
            "ref": "91110108MA0R8K3Q1Y",
            "value": "500000.00",
            "company_name": "某公司",
            "share_ratio": "35.00%",
        },
    },
]


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "planted.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_good_file_loads_as_recorded(tmp_path: Path) -> None:
    path = _write(
        tmp_path, ["# planted for the demo", *(json.dumps(x, ensure_ascii=False) for x in GOOD), ""]
    )
    records = load_fixtures(path, agencies=AGENCIES)
    assert [r.registry for r in records] == [x["registry"] for x in GOOD]
    deposit, vehicle, house, land, equity = records
    assert deposit.value == Decimal("80000.00") and deposit.details == {"branch": "武昌支行"}
    assert deposit.owner.id_number == "420106750313049"  # legacy number kept, not converted
    assert deposit.controls[0].amount == Decimal("20000.00") and deposit.controls[0].position == 0
    assert vehicle.value == Decimal("120000.00") and str(vehicle.owner.birth_date) == "1975-03-13"
    assert house.owner.id_type == "org_code" and house.details["area_m2"] == 89.5
    assert land.owner.id_number == "not even a number"  # identifiers are not validated
    assert equity.details["company_name"] == "某公司" and equity.truth_owner is None


LAND = {"kind": "land_use_right", "ref": "1", "value": "1.00"}


def _line(**fields: Any) -> str:
    """A land line with ``fields`` replacing (or, when None, removing) its parts."""
    line: dict[str, Any] = {"registry": "land", "owner": {"name": "x"}, "asset": LAND}
    line.update(fields)
    return json.dumps({k: v for k, v in line.items() if v is not None}, ensure_ascii=False)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"registry": "police", "owner": ', "bad JSON"),
        ("[1, 2]", "must be a JSON object"),
        (_line(registry="tax"), "unknown registry 'tax'"),
        (_line(registry="bank:hsbc", asset={**LAND, "kind": "deposit"}), "not configured"),
        (_line(registry="police"), "asset kind 'land_use_right' is not held by police"),
        (_line(asset={**LAND, "value": 1.5}), "not a float"),
        (_line(asset={**LAND, "value": "abc"}), "not a decimal amount"),
        (_line(asset={**LAND, "value": "1.001"}), "at most two decimal places"),
        (_line(asset={"kind": "land_use_right", "ref": "1"}), "asset: value"),
        (_line(owner={"name": ""}), "owner.name"),
        (_line(owner=None), "owner must be"),
        (_line(asset={**LAND, "ref": ""}), "asset.ref"),
        (_line(asset={**LAND, "colour": "red"}), "colour"),
        (_line(asset={**LAND, "term_ends": "someday"}), "term_ends"),
        (_line(controls=[{"court": "c", "action": "freeze"}]), "not a control on land_use_right"),
        (_line(controls={"court": "c"}), "controls must be a list"),
        (_line(extra=1), "unknown field(s) extra"),
    ],
)
def test_bad_line_is_refused_with_line_number_and_reason(tmp_path: Path, line: str, reason: str) -> None:
    good = json.dumps(GOOD[0], ensure_ascii=False)
    path = _write(tmp_path, [good, "", line, good])
    with pytest.raises(FixtureError) as info:
        load_fixtures(path, agencies=AGENCIES)
    assert info.value.line == 3
    assert reason in info.value.reason
    assert f"{path}:3" in str(info.value)


def test_single_line_parse_and_unconfigured_banks_allowed_without_a_list() -> None:
    line = _line(registry="bank:hsbc", asset={**LAND, "kind": "deposit"})
    assert parse_fixture_line(line, 7).registry == "bank:hsbc"
    with pytest.raises(FixtureError, match="line 7: unknown registry"):
        parse_fixture_line(line, 7, agencies=AGENCIES)
