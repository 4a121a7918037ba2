"""Commerce (市场监管): shareholders' equity.

``POST /open/v1/equity/query`` with ``{"party": {"name", "certs": [{"certType", "certNo"}]},
"pageNo", "pageSize"}``; header ``Authorization: AppCode <key>``; pages until ``total``.
Capital comes in 万元 and is converted to yuan here. Errors: ``{"success": false, "errorCode",
"errorMessage"}``.

Control orders: ``POST /open/v1/equity/freezes`` (``measure`` FREEZE / SEIZE) and
``POST /open/v1/equity/freezes/{freezeId}/renew|release|expire|deduct``, ``bizSeq`` = the order id,
amounts in 万元 both ways; the reply's ``status`` (upper-case outcome) maps to the outcome.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx

from schemas.models import (
    AgencyRequest,
    ControlCommand,
    ControlOutcome,
    EquityAsset,
    RegistryOwner,
)

from .adapter import AgencyAdapter, InquiryAnswer
from .control_wire import REGISTERING, ReplyFields, control_id_of, send_control
from .record_fields import ControlFields, existing_controls

__all__ = ["CommerceAdapter"]

PAGE_SIZE = 20
_CERT_TYPES = {"resident_id": "SFZ", "uscc": "TYSHXYDM", "org_code": "ZZJGDM", "business_reg_no": "ZCH"}
_ID_TYPES: dict[str | None, str] = {v: k for k, v in _CERT_TYPES.items()}


def _yuan(wan: str | None) -> Decimal | None:
    return Decimal(wan).scaleb(4) if wan is not None else None


def _wan(yuan: Decimal | None) -> str | None:
    return format(yuan.scaleb(-4), "f") if yuan is not None else None


_CONTROLS = ControlFields(
    control_id="freezeId",
    court="court",
    action="type",
    status="state",
    registered_at="regDate",
    expires_at="expireDate",
    position="seq",
    amount="amountWan",
    money=_yuan,
)


def _stake(s: dict[str, Any]) -> EquityAsset:
    owner = RegistryOwner(
        name=s["investorName"],
        id_type=_ID_TYPES.get(s.get("investorCertType"), s.get("investorCertType")),
        id_number=s.get("investorCertNo"),
    )
    controls = existing_controls(s.get("frozen"), _CONTROLS)
    return EquityAsset(
        agency="commerce",
        ref=s["uniscId"],
        owner=owner,
        value=s["assessedValue"],
        controls=controls,
        company_name=s.get("entName"),
        company_id=s["uniscId"],
        share_ratio=s.get("conRatio"),
        subscribed_capital=_yuan(s.get("subConAmWan")),
    )


# where this registry's control reply keeps each part of the outcome
_REPLY = ReplyFields(
    outcome=lambda r: str(r["status"]).lower(),
    control_id="freezeId",
    order_id="bizSeq",
    case_id="caseId",
    court="court",
    position="seq",
    amount_controlled="amountWan",
    amount_deducted="deductedWan",
    effective_at="effectiveDate",
    expires_at="expireDate",
    reason="remark",
    promoted="promoted",
    decided_at="handledAt",
    money=_yuan,
    ahead_expires_at="aheadExpireDate",
)


def _result(reply: Any) -> dict[str, Any]:
    """The ``result`` of a success reply; ``ValueError`` for a reply whose ``success`` is not true."""
    if reply.get("success") is not True:
        raise ValueError(f"{reply.get('errorCode')}: {reply.get('errorMessage')}")
    result: dict[str, Any] = reply["result"]
    return result


class CommerceAdapter(AgencyAdapter):
    agency = "commerce"

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"AppCode {self._credential}"}

    async def inquire(self, client: httpx.AsyncClient, request: AgencyRequest) -> InquiryAnswer:
        certs = [
            {"certType": _CERT_TYPES.get(f.id_type, f.id_type), "certNo": f.id_number}
            for f in request.identifiers
        ]
        answer = InquiryAnswer()
        page = 1
        while True:
            body = {
                "party": {"name": request.subject.name, "certs": certs},
                "pageNo": page,
                "pageSize": PAGE_SIZE,
            }
            response = await client.post(
                self.url("/open/v1/equity/query"), json=body, headers=self.auth_headers()
            )
            self.classify_response(response)
            with self.reading_reply():
                result = _result(response.json())
                answer.records.extend(_stake(s) for s in result["list"])
                done = not result["list"] or page * int(result["pageSize"]) >= int(result["total"])
            if done:
                return answer
            page += 1

    async def execute_control(self, client: httpx.AsyncClient, command: ControlCommand) -> ControlOutcome:
        body: dict[str, Any] = {
            "bizSeq": command.order_id,
            "uniscId": command.asset_ref,
            "court": command.court_id,
            "caseNo": command.case_number,
            "caseId": command.case_id,
            "amountWan": _wan(command.amount),
            "periodDays": command.period_days,
            "approver": command.approved_by,
            "investorCertNo": command.owner_id_number,
        }
        if command.action in REGISTERING:
            body["measure"] = command.action.upper()
            path = "/open/v1/equity/freezes"
        else:
            path = f"/open/v1/equity/freezes/{quote(control_id_of(self, command), safe='')}/{command.action}"
        return await send_control(self, client, command, path, _REPLY, json=body, unwrap=_result)

    def error_message(self, response: httpx.Response) -> str:
        try:
            body = response.json()
            return f"{body['errorCode']}: {body['errorMessage']}"
        except (ValueError, KeyError, TypeError):
            return super().error_message(response)
