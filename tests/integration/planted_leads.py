"""Records planted for the leads and payouts tests (tests/integration/test_leads_payouts.py)."""

from __future__ import annotations

from typing import Any

from .planted import person

# a debtor whose applicant reports a deposit at CCB (the lead is verified by the targeted inquiry)
LEAD_DEBTOR = person("柳青岚", "42010619830303032")
LEAD_ACCOUNT = "6217000010800000041"
# a debtor whose deposit the court freezes and deducts from (the money then held for the case)
PAY_DEBTOR = person("殷海波", "42010619840404043")
PAY_ACCOUNT = "6222020200800000042"  # 30,000.00


def leads_fixture_lines() -> list[dict[str, Any]]:
    return [
        {
            "registry": "bank:ccb",
            "owner": LEAD_DEBTOR,
            "asset": {"kind": "deposit", "ref": LEAD_ACCOUNT, "value": "12000.00"},
        },
        {
            "registry": "bank:icbc",
            "owner": PAY_DEBTOR,
            "asset": {"kind": "deposit", "ref": PAY_ACCOUNT, "value": "30000.00"},
        },
    ]
