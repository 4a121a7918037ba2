"""Records planted in the registries for the end-to-end tests (written as a fixture file)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from schemas.identifiers import org_code_check, resident_id_check, uscc_check


def rid(first17: str) -> str:
    return first17 + resident_id_check(first17)


def uscc(prefix8: str, org8: str) -> str:
    org = org8 + org_code_check(org8)
    first17 = prefix8 + org
    return first17 + uscc_check(first17)


# a debtor who holds something at every agency and at two banks
RICH = {"name": "赵德明", "id_type": "resident_id", "id_number": rid("42010619750313041")}
# the same name, another person: must be excluded and counted
RICH_HOMONYM_ID = rid("42010219800101002")
# a debtor with nothing anywhere
POOR = {"name": "钱无产", "id_type": "resident_id", "id_number": rid("42010619900707123")}
# someone who is not a debtor of any test case
STRANGER = {"name": "孙路人", "id_type": "resident_id", "id_number": rid("42010619851111456")}
COMPANY_ID = uscc("91420111", "MA4LQ2R7")

RICH_ASSETS: list[dict[str, Any]] = [
    {
        "registry": "bank:icbc",
        "asset": {"kind": "deposit", "ref": "6222020200700000001", "value": "80000.00"},
    },
    {
        "registry": "bank:ccb",
        "asset": {"kind": "deposit", "ref": "6217000010700000002", "value": "15000.25"},
        "controls": [
            {
                "court": "court-x",
                "action": "freeze",
                "amount": "2000.00",
                "registered_at": "2026-01-05T10:00:00+08:00",
            }
        ],
    },
    {
        "registry": "real_estate",
        "asset": {
            "kind": "real_estate",
            "ref": "鄂(2020)武汉市不动产权第0700003号",
            "value": "2100000.00",
            "address": "武汉市武昌区中北路1号",
        },
    },
    {"registry": "land", "asset": {"kind": "land_use_right", "ref": "420106-070-0004", "value": "450000.00"}},
    {"registry": "police", "asset": {"kind": "vehicle", "ref": "鄂A70005", "value": "120000.00"}},
    {
        "registry": "commerce",
        "asset": {
            "kind": "equity",
            "ref": COMPANY_ID,
            "value": "500000.00",
            "company_name": "武汉德明贸易有限公司",
        },
    },
]


def write_fixtures(path: Path) -> Path:
    lines = [{**a, "owner": RICH} for a in RICH_ASSETS]
    homonym = {"name": RICH["name"], "id_type": "resident_id", "id_number": RICH_HOMONYM_ID}
    lines.append(
        {
            "registry": "bank:icbc",
            "owner": homonym,
            "asset": {"kind": "deposit", "ref": "6222020200799999999", "value": "999.00"},
        }
    )
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n")
    return path


def expected_rich_assets() -> dict[str, tuple[str, str]]:
    """asset ref -> (agency, value) exactly as planted."""
    return {a["asset"]["ref"]: (a["registry"], a["asset"]["value"]) for a in RICH_ASSETS}
