"""Police (公安): household registration and vehicles.

``GET /api/v2/persons`` with every identifier form as a repeated ``sfzh`` and the name as ``xm``;
header ``X-Police-AppKey``; pages over persons (``page``/``rows``) until ``total`` is reached.
Each person entry becomes a household :class:`PartyRecord` and each of their vehicles a
:class:`VehicleAsset`, both with the owner as police recorded them. Errors: ``{"code", "msg"}``.

Control orders: ``POST /api/v2/vehicles/{hphm}/seizures`` (``cslx`` CF seize / DJ freeze) and
``POST /api/v2/seizures/{cfid}/release|renew|expire|deduct``, ``qqdh`` = the order id; the reply's
``jg`` code (SX, LH, BF, JJ, XF, JF, KH, DQ) maps to the outcome.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

import httpx

from schemas.models import (
    AgencyRequest,
    ControlCommand,
    ControlOutcome,
    PartyRecord,
    RegistryOwner,
    VehicleAsset,
)

from .adapter import AgencyAdapter, InquiryAnswer
from .control_wire import REGISTERING, ReplyFields, control_id_of, send_control
from .record_fields import ControlFields, existing_controls

__all__ = ["PoliceAdapter"]

ROWS = 20
_ID_TYPES: dict[str | None, str] = {"A": "resident_id", "B": "org_code", "M": "uscc", "J": "business_reg_no"}
_ACTION_CODES = {"seize": "CF", "freeze": "DJ"}
_OUTCOMES = {
    "SX": "effective",
    "LH": "waiting",
    "BF": "partial",
    "JJ": "rejected",
    "XF": "renewed",
    "JF": "released",
    "KH": "deducted",
    "DQ": "expired",
}


def _owner(person: dict[str, Any]) -> RegistryOwner:
    born = person.get("csrq")
    return RegistryOwner(
        name=person["xm"],
        id_type=_ID_TYPES.get(person.get("zjlx"), person.get("zjlx")),
        id_number=person.get("sfzh"),
        birth_date=dt.datetime.strptime(born, "%Y%m%d").date() if born else None,
        address=person.get("hjdz"),
    )


_CONTROLS = ControlFields(
    control_id="cfid",
    court="cfjg",
    action="cflx",
    status="zt",
    registered_at="djsj",
    expires_at="jzsj",
    position="sx",
    amount="je",
)


def _vehicle(v: dict[str, Any], owner: RegistryOwner) -> VehicleAsset:
    controls = existing_controls(v.get("cfxx"), _CONTROLS)
    return VehicleAsset(
        agency="police",
        ref=v["hphm"],
        owner=owner,
        value=v["jz"],
        controls=controls,
        vin=v.get("clsbdh"),
        brand_model=v.get("clpp"),
        registered_on=v.get("ccdjrq"),
    )


# where this registry's control reply keeps each part of the outcome
_REPLY = ReplyFields(
    outcome=lambda r: _OUTCOMES[r["jg"]],
    control_id="cfid",
    order_id="qqdh",
    case_id="ajid",
    court="cfjg",
    position="sx",
    amount_controlled="kzje",
    amount_deducted="kkje",
    effective_at="sxsj",
    expires_at="jzsj",
    reason="yy",
    promoted="dwsx",
    decided_at="clsj",
    ahead_expires_at="qmjzsj",
)


def _data(reply: Any) -> dict[str, Any]:
    """The ``data`` of a success reply; ``ValueError`` for a reply whose ``code`` is not 0."""
    if reply["code"] != 0:
        raise ValueError(f"code {reply['code']}: {reply.get('msg')}")
    data: dict[str, Any] = reply["data"]
    return data


class PoliceAdapter(AgencyAdapter):
    agency = "police"

    def auth_headers(self) -> dict[str, str]:
        return {"X-Police-AppKey": self._credential}

    async def inquire(self, client: httpx.AsyncClient, request: AgencyRequest) -> InquiryAnswer:
        query = [("sfzh", n) for n in dict.fromkeys(f.id_number for f in request.identifiers)]
        query.append(("xm", request.subject.name))
        answer = InquiryAnswer()
        page = 1
        while True:
            response = await client.get(
                self.url("/api/v2/persons"),
                params=[*query, ("page", page), ("rows", ROWS)],
                headers=self.auth_headers(),
            )
            self.classify_response(response)
            with self.reading_reply():
                body = response.json()
                data = _data(body)
                for person in data["persons"]:
                    owner = _owner(person)
                    if person.get("hjdz"):
                        answer.party_records.append(
                            PartyRecord(kind="household", owner=owner, detail={"address": person["hjdz"]})
                        )
                    answer.records.extend(_vehicle(v, owner) for v in person.get("vehicles", []))
                done = not data["persons"] or page * int(data["rows"]) >= int(data["total"])
            if done:
                return answer
            page += 1

    async def execute_control(self, client: httpx.AsyncClient, command: ControlCommand) -> ControlOutcome:
        body: dict[str, Any] = {
            "qqdh": command.order_id,
            "fy": command.court_id,
            "ah": command.case_number,
            "ajid": command.case_id,
            "qx": command.period_days,
            "je": f"{command.amount:.2f}" if command.amount is not None else None,
            "spr": command.approved_by,
        }
        if command.action in REGISTERING:
            body["cslx"] = _ACTION_CODES[command.action]
            path = f"/api/v2/vehicles/{quote(command.asset_ref, safe='')}/seizures"
        else:
            body["hphm"] = command.asset_ref
            path = f"/api/v2/seizures/{quote(control_id_of(self, command), safe='')}/{command.action}"
        return await send_control(self, client, command, path, _REPLY, json=body, unwrap=_data)

    def error_message(self, response: httpx.Response) -> str:
        try:
            body = response.json()
            return f"{body['code']} {body['msg']}"
        except (ValueError, KeyError, TypeError):
            return super().error_message(response)
