"""Land (自然资源/国土): land use rights and existing seizures.

``POST /landreg/query``, form-encoded: ``qlrmc`` (name), every identifier form as a repeated
``zjhm``, ``start``/``count`` paging until ``total``; header ``X-Api-Token``. Errors:
``{"result": "ERROR", "errCode", "errMsg"}`` (also possible with HTTP 200, which is refused here).

Control orders, form-encoded: ``POST /landreg/seizure`` (``lx`` CF seize / DJ freeze) and
``POST /landreg/seizure/change`` (``czlx`` XF renew / JF release / DQ expire / KH deduct, ``xzid``),
``ywh`` = the order id; the reply's ``clzt`` code maps to the outcome.
"""

from __future__ import annotations

from typing import Any

import httpx

from schemas.models import (
    AgencyRequest,
    ControlCommand,
    ControlOutcome,
    LandUseRightAsset,
    RegistryOwner,
)

from .adapter import AgencyAdapter, InquiryAnswer
from .control_wire import REGISTERING, ReplyFields, control_id_of, send_control
from .record_fields import ControlFields, existing_controls

__all__ = ["LandAdapter"]

COUNT = 20
_ID_TYPES: dict[str | None, str] = {"1": "resident_id", "6": "org_code", "7": "business_reg_no", "8": "uscc"}
_ACTION_CODES = {"seize": "CF", "freeze": "DJ"}
_CHANGE_CODES = {"renew": "XF", "release": "JF", "expire": "DQ", "deduct": "KH", "status": "CX"}
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


_CONTROLS = ControlFields(
    control_id="xzid",
    court="fy",
    action="lx",
    status="zt",
    registered_at="djsj",
    expires_at="jssj",
    position="sx",
)


def _right(r: dict[str, Any]) -> LandUseRightAsset:
    owner = RegistryOwner(
        name=r["qlrmc"], id_type=_ID_TYPES.get(r.get("zjzl"), r.get("zjzl")), id_number=r.get("zjhm")
    )
    controls = existing_controls(r.get("xzxx"), _CONTROLS)
    return LandUseRightAsset(
        agency="land",
        ref=r["zddm"],
        owner=owner,
        value=r["pgjz"],
        controls=controls,
        location=r.get("zl"),
        area_m2=r.get("mj"),
        usage=r.get("yt"),
        term_ends=r.get("zzrq"),
    )


def _ok(body: dict[str, Any]) -> dict[str, Any]:
    """The reply itself when ``result`` is OK (errors may come with HTTP 200)."""
    if body["result"] != "OK":
        raise ValueError(f"{body.get('errCode')}: {body.get('errMsg')}")
    return body


# where this registry's control reply keeps each part of the outcome
_REPLY = ReplyFields(
    outcome=lambda r: _OUTCOMES[r["clzt"]],
    control_id="xzid",
    order_id="ywh",
    case_id="ajid",
    court="fy",
    position="sx",
    amount_controlled="kzje",
    amount_deducted="khje",
    effective_at="sxsj",
    expires_at="jssj",
    reason="sm",
    promoted="dw",
    decided_at="clsj",
    ahead_expires_at="qmjssj",
)


class LandAdapter(AgencyAdapter):
    agency = "land"

    def auth_headers(self) -> dict[str, str]:
        return {"X-Api-Token": self._credential}

    async def inquire(self, client: httpx.AsyncClient, request: AgencyRequest) -> InquiryAnswer:
        ids = list(dict.fromkeys(f.id_number for f in request.identifiers))
        answer = InquiryAnswer()
        start = 0
        while True:
            form = {"qlrmc": request.subject.name, "zjhm": ids, "start": start, "count": COUNT}
            response = await client.post(self.url("/landreg/query"), data=form, headers=self.auth_headers())
            self.classify_response(response)
            with self.reading_reply():
                body = _ok(response.json())
                answer.records.extend(_right(r) for r in body["records"])
                start += len(body["records"])
                done = not body["records"] or start >= int(body["total"])
            if done:
                return answer

    async def execute_control(self, client: httpx.AsyncClient, command: ControlCommand) -> ControlOutcome:
        form: dict[str, Any] = {
            "ywh": command.order_id,
            "zddm": command.asset_ref,
            "fy": command.court_id,
            "ah": command.case_number,
            "ajid": command.case_id,
            "spr": command.approved_by,
        }
        if command.amount is not None:
            form["je"] = f"{command.amount:.2f}"
        if command.period_days is not None:
            form["qx"] = command.period_days
        if command.action in REGISTERING:
            form["lx"] = _ACTION_CODES[command.action]
            path = "/landreg/seizure"
        else:
            form["xzid"] = control_id_of(self, command)
            form["czlx"] = _CHANGE_CODES[command.action]
            path = "/landreg/seizure/change"
        form = {k: v for k, v in form.items() if v is not None}
        return await send_control(self, client, command, path, _REPLY, data=form, unwrap=_ok)

    def error_message(self, response: httpx.Response) -> str:
        try:
            body = response.json()
            return f"{body['errCode']}: {body['errMsg']}"
        except (ValueError, KeyError, TypeError):
            return super().error_message(response)
