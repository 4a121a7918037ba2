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

from hub.errors import PermanentRegistryError
from hub.masking import mask_text
from schemas.models import (
    AgencyRequest,
    ControlCommand,
    ControlOutcome,
    EquityAsset,
    ExistingControl,
    RegistryOwner,
)

from .adapter import AgencyAdapter, InquiryAnswer
from .control_wire import (
    REGISTERING,
    ReplyFields,
    check_echo,
    control_id_of,
    outcome_from_reply,
    unparseable,
)

__all__ = ["CommerceAdapter"]

PAGE_SIZE = 20
_CERT_TYPES = {"resident_id": "SFZ", "uscc": "TYSHXYDM", "org_code": "ZZJGDM", "business_reg_no": "ZCH"}
_ID_TYPES: dict[str | None, str] = {v: k for k, v in _CERT_TYPES.items()}


def _yuan(wan: str | None) -> Decimal | None:
    return Decimal(wan).scaleb(4) if wan is not None else None


def _wan(yuan: Decimal | None) -> str | None:
    return format(yuan.scaleb(-4), "f") if yuan is not None else None


def _stake(s: dict[str, Any]) -> EquityAsset:
    owner = RegistryOwner(
        name=s["investorName"],
        id_type=_ID_TYPES.get(s.get("investorCertType"), s.get("investorCertType")),
        id_number=s.get("investorCertNo"),
    )
    controls = [
        ExistingControl(
            control_id=f.get("freezeId"),
            court=f["court"],
            action=f["type"],
            amount=_yuan(f.get("amountWan")),
            registered_at=f.get("regDate"),
            expires_at=f.get("expireDate"),
            position=f.get("seq"),
            status=f["state"],
        )
        for f in s.get("frozen", [])
    ]
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
            try:
                result = response.json()["result"]
                answer.records.extend(_stake(s) for s in result["list"])
                done = not result["list"] or page * int(result["pageSize"]) >= int(result["total"])
            except (ValueError, KeyError, TypeError) as e:
                raise PermanentRegistryError(
                    self.agency, f"unparseable reply: {mask_text(str(e))[:300]}"
                ) from e
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
        response = await client.post(self.url(path), json=body, headers=self.auth_headers())
        self.classify_response(response)
        try:
            reply = response.json()
            if reply.get("success") is not True:
                raise ValueError(f"{reply.get('errorCode')}: {reply.get('errorMessage')}")
            r = reply["result"]
            check_echo(command, r["bizSeq"])
            return outcome_from_reply(self, command, r, _REPLY)
        except (ValueError, KeyError, TypeError, ArithmeticError) as e:
            raise unparseable(self, e) from e

    def error_message(self, response: httpx.Response) -> str:
        try:
            body = response.json()
            return f"{body['errorCode']}: {body['errorMessage']}"
        except (ValueError, KeyError, TypeError):
            return super().error_message(response)
