"""The registries under test for the control-rule tests: every agency's real registry app served by
uvicorn on a free localhost port, each driven by that agency's real adapter over real HTTP.

The registries plant, for one owner (``OWNER``), one asset per name in ``ASSETS`` at every agency;
some carry another court's control (``_planted``). Registry time comes from the hub clock
(``HUB_CLOCK_FILE``), moved with :meth:`Registry.move_clock` (fixtures reset it after each test).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from connectors.adapter import AgencyAdapter
from connectors.registry_adapters import build_adapter
from hub.clock import set_clock_offset
from hub.settings import HubSettings
from registries.app import create_app
from registries.controls import MAX_PERIOD_DAYS
from registries.fixtures import load_fixtures
from registries.population import generate
from registries.store import RegistryData
from schemas.agencies import (
    ASSET_KIND_BY_AGENCY_TYPE,
    DIVISIBLE_KINDS,
    REGISTER_ACTION,
    AssetKind,
    agency_type,
)
from schemas.identifiers import IdType, identifier_variants, resident_id_check
from schemas.models import AgencyRequest, ControlCommand, ControlOutcome, IdentifierForm, Party, utcnow

BANKS = "icbc,boc"
AGENCIES = HubSettings(banks=BANKS).agencies
BANK_AGENCIES = [a for a in AGENCIES if a.startswith("bank:")]
DAY = dt.timedelta(days=1)
SLACK = dt.timedelta(seconds=5)
ID = "42010619810315044"
OWNER = Party(name="控制甲", id_type=IdType.resident_id, id_number=ID + resident_id_check(ID))
ASSETS = (
    "queue",
    "renew",
    "idem",
    "wrong",
    "foreign",
    "expire",
    "clock",
    "partial",
    "deduct",
    "lapsed",
    "status",
    "cap",
    "restart",
    "stake",
)
# past every date this module simulates (the clock moves up to 431 days ahead)
FAR = "2031-01-05T10:00:00+08:00"
BALANCES = {"foreign": "2000.00", "partial": "8000.00", "deduct": "20000.00"}


def _kind(agency: str) -> str:
    return str(ASSET_KIND_BY_AGENCY_TYPE[agency_type(agency)])


def _register_action(agency: str) -> str:
    return REGISTER_ACTION[AssetKind(_kind(agency))]


def _ref(agency: str, name: str) -> str:
    return f"{agency.replace(':', '-')}-c-{name}"


def _planted(agency: str) -> list[dict[str, Any]]:
    kind = _kind(agency)
    lines = []
    for name in ASSETS:
        line: dict[str, Any] = {
            "registry": agency,
            "owner": {"name": OWNER.name, "id_type": "resident_id", "id_number": OWNER.id_number},
            "asset": {"kind": kind, "ref": _ref(agency, name), "value": BALANCES.get(name, "10000.00")},
        }
        if name in ("foreign", "partial"):  # another court's control in effect, for longer than simulated
            line["controls"] = [
                {
                    "court": "court-x",
                    "action": _register_action(agency),
                    "amount": "2000.00",
                    "registered_at": "2026-01-05T10:00:00+08:00",
                    "expires_at": FAR,
                }
            ]
        if name == "lapsed":  # another court's control whose period ended years ago, never renewed
            line["controls"] = [
                {
                    "court": "court-x",
                    "action": _register_action(agency),
                    "amount": "10000.00",
                    "registered_at": "2021-05-01T09:00:00+08:00",
                }
            ]
        if name == "status":  # another court's control in effect for 20 more days
            registered = utcnow() - DAY * (MAX_PERIOD_DAYS[kind] - 20)
            line["controls"] = [
                {
                    "court": "court-x",
                    "action": _register_action(agency),
                    "amount": "10000.00",
                    "registered_at": registered.isoformat(),
                }
            ]
        if kind == "equity":
            line["asset"]["subscribed_capital"] = "300000.00"
        lines.append(line)
    return lines


@dataclass
class Registry:
    agency: str
    adapter: AgencyAdapter
    clock_file: Path

    @property
    def kind(self) -> str:
        return _kind(self.agency)

    @property
    def divisible(self) -> bool:
        """A freeze states an amount and blocks that much (deposits, securities accounts)."""
        return self.kind in DIVISIBLE_KINDS

    @property
    def register(self) -> str:
        return _register_action(self.agency)

    def ref(self, name: str) -> str:
        return _ref(self.agency, name)

    def move_clock(self, days: float) -> dt.timedelta:
        set_clock_offset(self.clock_file, days * 86400)
        return dt.timedelta(days=days)

    def command(
        self,
        name: str,
        action: str,
        *,
        court: str = "court-a",
        case: str | None = None,
        order: str | None = None,
        amount: str | None = None,
        control_id: str | None = None,
        period: int | None = None,
    ) -> ControlCommand:
        return ControlCommand.model_validate(
            {
                "order_id": order or f"ord-{uuid.uuid4().hex[:12]}",
                "case_id": case or f"case-{court}",
                "court_id": court,
                "case_number": "(2026)鄂0111执1234号",
                "agency": self.agency,
                "asset_kind": self.kind,
                "asset_ref": name if name.startswith("no-such") else self.ref(name),
                "action": action,
                "amount": amount,
                "control_id": control_id,
                "period_days": period,
                "approved_by": "judge-1",
                "officer": f"officer-{court}-1",
                "purpose": "control of the debtor's asset",
                "legal_basis": "(2026)鄂0111执1234号 执行裁定书",
                "requested_at": utcnow(),
                "idempotency_key": f"idem-{uuid.uuid4().hex[:8]}",
            }
        )

    def execute(self, command: ControlCommand) -> ControlOutcome:
        async def run() -> ControlOutcome:
            async with httpx.AsyncClient(timeout=5) as client:
                return await self.adapter.execute_control(client, command)

        return asyncio.run(run())

    def asset(self, name: str) -> Any:
        request = AgencyRequest(
            request_id="req-c",
            inquiry_id="inq-c",
            case_id="case-court-a",
            court_id="court-a",
            agency=self.agency,
            subject=OWNER,
            identifiers=[
                IdentifierForm(id_type=t, id_number=n) for t, n in identifier_variants("resident_id", ID)
            ]
            or [IdentifierForm(id_type="resident_id", id_number=OWNER.id_number)],
            deadline=utcnow() + dt.timedelta(seconds=30),
            idempotency_key="idem-c",
            officer="officer-court-a-1",
            purpose="asset investigation",
            legal_basis="(2026)鄂0111执1234号 执行裁定书",
        )

        async def run() -> Any:
            async with httpx.AsyncClient(timeout=5) as client:
                return await self.adapter.inquire(client, request)

        records = {r.ref: r for r in asyncio.run(run()).records}
        return records[self.ref(name)]


def _settings(**extra: Any) -> HubSettings:
    base: dict[str, Any] = {
        "banks": BANKS,
        "registry_latency_ms": "fixed:0",
        "registry_error_rate": 0.0,
        "registry_outage": "",
        "agency_credentials": {},
        "registry_seed": 7,
    }
    return HubSettings(**(base | extra))


@contextlib.contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free localhost port until the block ends; yields its URL."""
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", access_log=False, ws="none", lifespan="off")
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "registry did not start"
            time.sleep(0.01)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def planted_data(tmp: Path) -> RegistryData:
    """The registries' data: a small population plus the lines of :func:`_planted`."""
    path = tmp / "planted.jsonl"
    lines = [line for agency in AGENCIES for line in _planted(agency)]
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", encoding="utf-8")
    return RegistryData.build(
        generate(7, 30, bank_codes=BANKS.split(",")), load_fixtures(path, agencies=AGENCIES)
    )


@pytest.fixture(scope="module", name="servers")
def servers_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Registry]]:
    tmp = Path(tmp_path_factory.mktemp("controls"))
    data = planted_data(tmp)
    clock_file = tmp / "clock"
    set_clock_offset(clock_file, 0.0)
    out: dict[str, Registry] = {}
    with contextlib.ExitStack() as stack:
        for agency in AGENCIES:
            url = stack.enter_context(serve(create_app(agency, data, _settings(clock_file=clock_file))))
            out[agency] = Registry(
                agency, build_adapter(agency, _settings(agency_urls={agency: url})), clock_file
            )
        yield out


@pytest.fixture(params=AGENCIES, name="registry")
def registry_fixture(request: pytest.FixtureRequest, servers: dict[str, Registry]) -> Iterator[Registry]:
    reg = servers[request.param]
    try:
        yield reg
    finally:
        reg.move_clock(0)


@pytest.fixture(params=BANK_AGENCIES, name="bank")
def bank_fixture(request: pytest.FixtureRequest, servers: dict[str, Registry]) -> Iterator[Registry]:
    reg = servers[request.param]
    try:
        yield reg
    finally:
        reg.move_clock(0)


def _within(when: dt.datetime | None, shift: dt.timedelta, before: dt.datetime, after: dt.datetime) -> None:
    assert when is not None
    assert before + shift - SLACK <= when <= after + shift + SLACK, (when, before + shift)


def _amount(registry: Registry, value: str) -> str | None:
    return value if registry.divisible else None
