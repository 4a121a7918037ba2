"""``hub demo``: a short scenario through the public API, printed as tables.

It registers a case against the demo debtor planted by ``examples/demo-fixtures.jsonl`` (loaded by
``hub up`` unless ``HUB_REGISTRY_FIXTURES`` names another file), inquires at every agency and
prints each agency's status, the linked assets and the securities they hold.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from .errors import HubError

DEMO_DEBTOR = {"name": "林秀英", "id_type": "resident_id", "id_number": "420106198203150024"}


def run_demo(
    gateway: str, token: str, *, wait: float, console: Console, officer: str = "officer-court-a-1"
) -> dict[str, Any]:
    """Register the demo case and inquire as ``officer`` (an officer of ``token``'s court); returns
    the inquiry's result. ``HubError`` when it stays pending ``wait`` seconds; httpx errors as raised."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=gateway, headers=headers, timeout=10) as client:
        r = client.post(
            "/v1/cases",
            json={
                "case_number": "(2026)鄂0111执1234号",
                "applicant": {"name": "武汉某建材有限公司"},
                "debtors": [DEMO_DEBTOR],
                "amount_owed": "100000.00",
                "costs": "1500.00",
            },
        )
        if r.status_code == 409:  # a case number is unique per court: a second demo reuses the first case
            case_id = r.json()["case_id"]
            console.print(f"case number already registered: using case [bold]{case_id}[/bold]")
        else:
            r.raise_for_status()
            case_id = r.json()["case_id"]
            console.print(f"registered case [bold]{case_id}[/bold]")
        r = client.post(
            "/v1/inquiries",
            json={
                "case_id": case_id,
                "debtor": {k: DEMO_DEBTOR[k] for k in ("id_type", "id_number")},
                "officer": officer,
                "purpose": "查明被执行人财产 (demo: find the debtor's assets)",
                "legal_basis": "(2026)鄂0111执1234号 执行裁定书",
            },
        )
        r.raise_for_status()
        inquiry_id = r.json()["inquiry_id"]
        console.print(f"submitted inquiry [bold]{inquiry_id}[/bold]; waiting for the agencies…")
        started = time.monotonic()
        while True:
            result = client.get(f"/v1/inquiries/{inquiry_id}").json()
            if result["status"] != "pending":
                break
            if time.monotonic() - started > wait:
                raise HubError(f"inquiry still pending after {wait:.0f} s")
            time.sleep(0.3)
    console.print(f"inquiry {result['status']} after {time.monotonic() - started:.1f} s")
    agencies = Table(title="Agencies")
    for col in ("agency", "status", "assets", "excluded", "detail"):
        agencies.add_column(col)
    for name, a in result["agencies"].items():
        agencies.add_row(
            name,
            a["status"],
            str(a.get("assets", 0)),
            str(a.get("excluded_non_matches", 0)),
            a.get("detail") or "",
        )
    console.print(agencies)
    assets = Table(title="Assets linked to the debtor")
    for col in ("agency", "kind", "ref", "value", "linkage", "score", "existing controls"):
        assets.add_column(col)
    for a in result["assets"]:
        link = a["linkage"]
        assets.add_row(
            a["agency"],
            a["kind"],
            a["ref"],
            a["value"],
            link["decision"],
            f"{link['score']:.1f}",
            str(len(a.get("controls", []))),
        )
    console.print(assets)
    positions = Table(title="Securities held (securities accounts)")
    for col in ("account", "code", "name", "quantity", "market value"):
        positions.add_column(col)
    for a in result["assets"]:
        for p in (a.get("details") or {}).get("holdings") or []:
            positions.add_row(a["ref"], p["code"], p.get("name") or "", str(p["quantity"]), p["market_value"])
    if positions.row_count:
        console.print(positions)
    return result
