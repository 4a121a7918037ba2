"""Records planted for the 终本 tests (tests/integration/test_termination.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .planted import person

# a debtor whose deposit is partly held by another court's freeze that lapses between the
# termination (the clock moved 91 days) and the first re-query (the clock moved 91 + 183 days)
TERM_DEBTOR = person("欧阳静", "42010619820202021")
TERM_ACCOUNT = "6222020200800000031"  # 60,000.00; court-x holds 20,000.00 of it
TERM_PLATE = "鄂A80032"
TERM_FREEZE_DAYS_LEFT = 150
TERM_FREEZE_REGISTERED_AT = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(
    days=365 - TERM_FREEZE_DAYS_LEFT
)


def termination_fixture_lines() -> list[dict[str, Any]]:
    return [
        {
            "registry": "bank:icbc",
            "owner": TERM_DEBTOR,
            "asset": {"kind": "deposit", "ref": TERM_ACCOUNT, "value": "60000.00"},
            "controls": [
                {
                    "court": "court-x",
                    "action": "freeze",
                    "amount": "20000.00",
                    "registered_at": TERM_FREEZE_REGISTERED_AT.isoformat(),
                }
            ],
        },
        {
            "registry": "police",
            "owner": TERM_DEBTOR,
            "asset": {"kind": "vehicle", "ref": TERM_PLATE, "value": "85000.00"},
        },
    ]
