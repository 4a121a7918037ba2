"""Securities accounts planted for the end-to-end tests (lines of the fixture file)."""

from __future__ import annotations

from typing import Any

from .planted import person

# a debtor whose only asset is a securities account, part of it frozen by another court
SECURITIES_DEBTOR = person("蒋红梅", "42010619770707136")
SECURITIES_ACCOUNT = "180080000009"
SECURITIES_HOLDINGS = [
    {"code": "600036", "name": "招商银行", "quantity": 2000, "market_value": "71000.00"},
    {"code": "000858", "name": "五粮液", "quantity": 300, "market_value": "49000.00"},
]


def securities_fixture_lines() -> list[dict[str, Any]]:
    return [
        {
            "registry": "securities",
            "owner": SECURITIES_DEBTOR,
            "asset": {
                "kind": "securities",
                "ref": SECURITIES_ACCOUNT,
                "value": "120000.00",
                "holdings": SECURITIES_HOLDINGS,
                "account_type": "人民币普通股票账户",
            },
            "controls": [
                {
                    "court": "court-x",
                    "action": "freeze",
                    "amount": "20000.00",
                    "registered_at": "2026-01-05T10:00:00+08:00",
                }
            ],
        }
    ]
