"""Records planted in the registries for the end-to-end tests (written as a fixture file)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from schemas.identifiers import business_reg_check, org_code_check, resident_id_check, uscc_check


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
    {
        "registry": "securities",
        "asset": {
            "kind": "securities",
            "ref": "180070000007",
            "value": "186500.00",
            "holdings": [
                {"code": "600036", "name": "招商银行", "quantity": 3000, "market_value": "106500.00"},
                {"code": "300750", "name": "宁德时代", "quantity": 400, "market_value": "80000.00"},
            ],
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
    lines += control_fixture_lines()
    lines += issue8_fixture_lines(PROMOTE_AHEAD_REGISTERED_AT)
    lines += linkage_fixture_lines()
    from .planted_securities import securities_fixture_lines  # (imports this module)

    lines += securities_fixture_lines()
    from .planted_termination import termination_fixture_lines  # 终本 (imports this module)

    lines += termination_fixture_lines()
    from .planted_leads import leads_fixture_lines  # leads and payouts (imports this module)

    lines += leads_fixture_lines()
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n")
    return path


def expected_rich_assets() -> dict[str, tuple[str, str]]:
    """asset ref -> (agency, value) exactly as planted."""
    return {a["asset"]["ref"]: (a["registry"], a["asset"]["value"]) for a in RICH_ASSETS}


# ---------------------------------------------------------------- control-order scenarios
def person(name: str, first17: str) -> dict[str, str]:
    return {"name": name, "id_type": "resident_id", "id_number": rid(first17)}


FLAT_OWNER = person("周建平", "42010619700101051")
FLAT_REF = "鄂(2018)武汉市不动产权第0800001号"
CAP_DEBTOR = person("吴桂英", "42010619720202062")
CAP_ACCOUNTS = {
    "bank:icbc": "6222020200800000001",
    "bank:ccb": "6217000010800000002",
    "bank:boc": "6216600100800000003",
}
THIN_DEBTOR = person("郑小军", "42010619730303073")
THIN_ACCOUNT = "6222020200800000004"
DEDUCT_DEBTOR = person("王秀兰", "42010619740404084")
DEDUCT_ACCOUNT = "6217000010800000005"
EXPIRY_DEBTOR = person("冯志强", "42010619750505095")
EXPIRY_ACCOUNT = "6216600100800000006"

# identity linkage end to end: one debtor's records under every registry's own spelling
LEGACY_DEBTOR = person("陈　建国", "42010619680808108")  # the court types an ideographic space; names fold
LEGACY_ID_15 = LEGACY_DEBTOR["id_number"][:6] + LEGACY_DEBTOR["id_number"][8:17]
COMPANY = {"name": "武汉恒通机械有限责任公司", "id_type": "uscc", "id_number": uscc("91420100", "MA4KX7Q2")}
COMPANY_ORG = COMPANY["id_number"][8:16] + "-" + COMPANY["id_number"][16]
SLIP_DEBTOR = person("褚卫东", "42010619790909119")


def _transposed(number: str) -> str:
    i = next(i for i in range(6, 16) if number[i] != number[i + 1])
    return number[:i] + number[i + 1] + number[i] + number[i + 2 :]


SLIP_ID = _transposed(SLIP_DEBTOR["id_number"])
SLIP_ACCOUNT = "6222020200800000007"
# a freeze that must outlast a bank outage (test_outage_resilience.py)
OUTAGE_DEBTOR = person("蒋立新", "42010619810606128")
OUTAGE_ACCOUNT = "6216600100800000011"


def control_fixture_lines() -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = [
        {
            "registry": "real_estate",
            "owner": FLAT_OWNER,
            "asset": {
                "kind": "real_estate",
                "ref": FLAT_REF,
                "value": "1200000.00",
                "address": "武汉市江岸区沿江大道8号",
            },
        },
        {
            "registry": "bank:icbc",
            "owner": THIN_DEBTOR,
            "asset": {"kind": "deposit", "ref": THIN_ACCOUNT, "value": "3000.00"},
        },
        {
            "registry": "bank:ccb",
            "owner": DEDUCT_DEBTOR,
            "asset": {"kind": "deposit", "ref": DEDUCT_ACCOUNT, "value": "50000.00"},
        },
        {
            "registry": "bank:boc",
            "owner": EXPIRY_DEBTOR,
            "asset": {"kind": "deposit", "ref": EXPIRY_ACCOUNT, "value": "10000.00"},
        },
        # linkage: legacy 15-digit number at land, full-width name at police, org code at commerce/bank
        {
            "registry": "land",
            "owner": {"name": "陈建国", "id_type": "resident_id", "id_number": LEGACY_ID_15},
            "asset": {"kind": "land_use_right", "ref": "420106-080-0008", "value": "260000.00"},
        },
        {
            "registry": "police",
            "owner": {"name": "陈 建国", "id_type": "resident_id", "id_number": LEGACY_DEBTOR["id_number"]},
            "asset": {"kind": "vehicle", "ref": "鄂A80008", "value": "66000.00"},
        },
        {
            "registry": "bank:icbc",
            "owner": {"name": "武汉恒通机械有限公司", "id_type": "org_code", "id_number": COMPANY_ORG},
            "asset": {"kind": "deposit", "ref": "6222020200800000009", "value": "730000.00"},
        },
        {
            "registry": "commerce",
            "owner": {
                "name": "武汉恒通机械有限责任公司",
                "id_type": "uscc",
                "id_number": COMPANY["id_number"],
            },
            "asset": {
                "kind": "equity",
                "ref": uscc("91420100", "MA4KX7Q3"),
                "value": "1000000.00",
                "company_name": "武汉恒通配件有限公司",
            },
        },
        # a clerk's slip: same name, two digits swapped -> possible, needs a judge's confirmation
        {
            "registry": "bank:icbc",
            "owner": {"name": SLIP_DEBTOR["name"], "id_type": "resident_id", "id_number": SLIP_ID},
            "asset": {"kind": "deposit", "ref": SLIP_ACCOUNT, "value": "42000.00"},
        },
    ]
    lines += [
        {"registry": bank, "owner": CAP_DEBTOR, "asset": {"kind": "deposit", "ref": ref, "value": "80000.00"}}
        for bank, ref in CAP_ACCOUNTS.items()
    ]
    lines.append(
        {
            "registry": "bank:boc",
            "owner": OUTAGE_DEBTOR,
            "asset": {"kind": "deposit", "ref": OUTAGE_ACCOUNT, "value": "20000.00"},
        }
    )
    return lines


# ---------------------------------------------------------------- lapse, over-seizure, stakes (issue 8)
LAPSE_DEBTOR = person("蒋丽华", "42010619760606106")
LAPSE_ACCOUNT = "6217000010800000011"  # 50,000.00, another court's freeze registered 2024-03-01
LAPSE_FLAT = "鄂(2019)武汉市不动产权第0800012号"  # another court's seizure registered 2021-05-01
LAPSE_FREEZE_AT = "2024-03-01T10:00:00+08:00"
LAPSE_SEIZURE_AT = "2021-05-01T10:00:00+08:00"
PROMOTE_DEBTOR = person("沈国庆", "42010619770707117")
PROMOTE_HELD = "6222020200800000013"  # 70,000.00 fully frozen by another court, 65 days left
PROMOTE_FREE = "6216600100800000014"  # 80,000.00, nothing frozen
PROMOTE_AHEAD_DAYS_LEFT = 65
OVERSEIZE_DEBTOR = person("韩雪梅", "42010619780808128")
OVERSEIZE_ACCOUNT = "6216600100800000015"  # 86,500.00
OVERSEIZE_FLAT = "鄂(2021)武汉市不动产权第0800016号"  # 1,850,000.00
STAKE_DEBTOR = person("杨振华", "42010619790909139")
STAKE_COMPANY = uscc("91420100", "MA4KX7Q5")
STAKE_ACCOUNT = "6222020200800000017"  # 20,000.00


# when the other court's freeze ahead of PROMOTE_HELD was registered: fixed once per test session
PROMOTE_AHEAD_REGISTERED_AT = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(
    days=365 - PROMOTE_AHEAD_DAYS_LEFT
)


def issue8_fixture_lines(promote_registered_at: dt.datetime) -> list[dict[str, Any]]:
    return [
        {
            "registry": "bank:ccb",
            "owner": LAPSE_DEBTOR,
            "asset": {"kind": "deposit", "ref": LAPSE_ACCOUNT, "value": "50000.00"},
            "controls": [
                {
                    "court": "court-x",
                    "action": "freeze",
                    "amount": "50000.00",
                    "registered_at": LAPSE_FREEZE_AT,
                }
            ],
        },
        {
            "registry": "real_estate",
            "owner": LAPSE_DEBTOR,
            "asset": {"kind": "real_estate", "ref": LAPSE_FLAT, "value": "900000.00"},
            "controls": [{"court": "court-x", "action": "seize", "registered_at": LAPSE_SEIZURE_AT}],
        },
        {
            "registry": "bank:icbc",
            "owner": PROMOTE_DEBTOR,
            "asset": {"kind": "deposit", "ref": PROMOTE_HELD, "value": "70000.00"},
            "controls": [
                {
                    "court": "court-x",
                    "action": "freeze",
                    "amount": "70000.00",
                    "registered_at": promote_registered_at.isoformat(),
                }
            ],
        },
        {
            "registry": "bank:boc",
            "owner": PROMOTE_DEBTOR,
            "asset": {"kind": "deposit", "ref": PROMOTE_FREE, "value": "80000.00"},
        },
        {
            "registry": "bank:boc",
            "owner": OVERSEIZE_DEBTOR,
            "asset": {"kind": "deposit", "ref": OVERSEIZE_ACCOUNT, "value": "86500.00"},
        },
        {
            "registry": "real_estate",
            "owner": OVERSEIZE_DEBTOR,
            "asset": {"kind": "real_estate", "ref": OVERSEIZE_FLAT, "value": "1850000.00"},
        },
        {
            "registry": "commerce",
            "owner": STAKE_DEBTOR,
            "asset": {
                "kind": "equity",
                "ref": STAKE_COMPANY,
                "value": "400000.00",
                "company_name": "武汉振华物流有限公司",
                "subscribed_capital": "300000.00",
            },
        },
        {
            "registry": "bank:icbc",
            "owner": STAKE_DEBTOR,
            "asset": {"kind": "deposit", "ref": STAKE_ACCOUNT, "value": "20000.00"},
        },
    ]


# ---------------------------------------------------------------- identity linkage: issue-8 hard cases
# records whose owner a registry wrote otherwise than the court does; each must reach the court
# (``possible`` with its evidence, or ``match`` where the identifier agrees) or stay excluded
def business_reg_no(first14: str) -> str:
    return first14 + business_reg_check(first14)


# 买买提·吐尔逊: records without an identifier under three other spellings of the separator, and
# a namesake with another valid identifier (excluded and counted)
MINORITY = person("买买提·吐尔逊", "65010219850312031")
MINORITY_NAMESAKE_ID = rid("65010219900101052")
MINORITY_RECORDS = {
    "6222020200900000001": ("bank:icbc", "买买提．吐尔逊"),
    "新A90001": ("police", "买买提吐尔逊"),
    "650102-090-0001": ("land", "买买提・吐尔逊"),
}
MINORITY_NAMESAKE_ACCOUNT = "6217000010900000002"
# 〇 written otherwise: O without an identifier, 0 with the identifier
LING = person("李〇华", "42010619770707075")
LING_NO_ID_ACCOUNT, LING_ID_ACCOUNT = "6222020200900000003", "6216600100900000004"
# legal-form spelling only, no identifier; and a holding company's record under the debtor's code
FORM_COMPANY = {
    "name": "武汉华鑫精密机械有限公司",
    "id_type": "uscc",
    "id_number": uscc("91420100", "MA4KX8Q3"),
}
FORM_COMPANY_FLAT = "鄂(2021)武汉市不动产权第0900005号"
HOLDING_ACCOUNT = "6222020200900000006"
# the debtor's resident id under a sibling's name; a placeholder identifier under the debtor's name
SIBLING_DEBTOR = person("钱建华", "42010619810808086")
SIBLING_ACCOUNT, PLACEHOLDER_ACCOUNT = "6217000010900000007", "6216600100900000008"
# a company the court knows by its old 15-digit business registration number
OLD_COMPANY = {
    "name": "武汉长江电机厂",
    "id_type": "business_reg_no",
    "id_number": business_reg_no("42010000012345"),
}
OLD_COMPANY_ACCOUNT = "6222020200900000009"
# a credit code issued before 2016 that fails its check character (registered with an override)
UNCHECKED_CODE = "91350203M0001QKT19"
UNCHECKED_COMPANY = {
    "name": "厦门鹭江贸易有限公司",
    "id_type": "uscc",
    "id_number": UNCHECKED_CODE,
    "check_override": "issued in 2014 by the Xiamen registry; the certificate shows this code",
}
UNCHECKED_ACCOUNT = "6222020200900000010"


def linkage_fixture_lines() -> list[dict[str, Any]]:
    def deposit(registry: str, owner: dict[str, Any], ref: str, value: str = "10000.00") -> dict[str, Any]:
        return {
            "registry": registry,
            "owner": owner,
            "asset": {"kind": "deposit", "ref": ref, "value": value},
        }

    kinds = {"bank:icbc": "deposit", "police": "vehicle", "land": "land_use_right"}
    lines: list[dict[str, Any]] = [
        {
            "registry": registry,
            "owner": {"name": name},
            "asset": {"kind": kinds[registry], "ref": ref, "value": "50000.00"},
        }
        for ref, (registry, name) in MINORITY_RECORDS.items()
    ]
    lines += [
        deposit(
            "bank:ccb",
            {"name": MINORITY["name"], "id_type": "resident_id", "id_number": MINORITY_NAMESAKE_ID},
            MINORITY_NAMESAKE_ACCOUNT,
        ),
        deposit("bank:icbc", {"name": "李O华"}, LING_NO_ID_ACCOUNT),
        deposit("bank:boc", {**LING, "name": "李0华"}, LING_ID_ACCOUNT),
        {
            "registry": "real_estate",
            "owner": {"name": "武汉华鑫精密机械有限责任公司"},
            "asset": {"kind": "real_estate", "ref": FORM_COMPANY_FLAT, "value": "3000000.00"},
        },
        deposit("bank:icbc", {**FORM_COMPANY, "name": "武汉华鑫精密机械控股有限公司"}, HOLDING_ACCOUNT),
        deposit("bank:ccb", {**SIBLING_DEBTOR, "name": "钱建国"}, SIBLING_ACCOUNT),
        deposit(
            "bank:boc",
            {"name": SIBLING_DEBTOR["name"], "id_type": "resident_id", "id_number": "000000000000000000"},
            PLACEHOLDER_ACCOUNT,
        ),
        deposit("bank:icbc", OLD_COMPANY, OLD_COMPANY_ACCOUNT),
        deposit(
            "bank:icbc",
            {k: v for k, v in UNCHECKED_COMPANY.items() if k != "check_override"},
            UNCHECKED_ACCOUNT,
        ),
    ]
    return lines
