"""Securities depository (证券登记结算): securities accounts, their holdings and existing freezes.

``GET /csdc/v3/accounts?holderName=<name>&certNo=<id>...&size=10``; header ``Authorization: Bearer
<token>``; keyset paging: while ``data.hasMore``, ask again with ``after`` = ``data.lastAcctNo``.
Success is ``retCode`` ``0000``; errors ``{"retCode", "retMsg"}`` (a non-``0000`` code with HTTP 200
is refused here).

Control orders: ``PUT /csdc/v3/judicial-freezes/{requestNo}`` (``requestNo`` = the order id, the
market value to freeze as ``freezeValue``) registers a freeze; ``PATCH
/csdc/v3/judicial-freezes/{freezeNo}`` with ``operation`` RENEW / UNFREEZE / EXPIRE / QUERY acts on
one (DEDUCT is refused); the reply's ``data.result`` maps to the outcome.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from hub.errors import PermanentRegistryError
from schemas.models import (
    AgencyRequest,
    ControlCommand,
    ControlOutcome,
    RegistryOwner,
    SecuritiesAsset,
    SecurityPosition,
)

from .adapter import AgencyAdapter, InquiryAnswer
from .control_wire import REGISTERING, ReplyFields, control_id_of, send_control
from .record_fields import ControlFields, existing_controls

__all__ = ["SecuritiesAdapter"]

SIZE = 10
_CERT_TYPES = {"resident_id": "01", "business_reg_no": "06", "org_code": "07", "uscc": "08"}
_ID_TYPES: dict[str | None, str] = {v: k for k, v in _CERT_TYPES.items()}
# deduct: the depository refuses it (securities are sold, not deducted), with its reason
_OPERATIONS = {
    "renew": "RENEW",
    "release": "UNFREEZE",
    "expire": "EXPIRE",
    "status": "QUERY",
    "deduct": "DEDUCT",
}
_OUTCOMES = {
    "FROZEN": "effective",
    "PARTIAL": "partial",
    "QUEUED": "waiting",
    "REFUSED": "rejected",
    "RENEWED": "renewed",
    "UNFROZEN": "released",
    "EXPIRED": "expired",
    "DEDUCTED": "deducted",
}

# where this registry's control reply keeps each part of the outcome
_REPLY = ReplyFields(
    outcome=lambda r: _OUTCOMES[r["result"]],
    control_id="freezeNo",
    order_id="requestNo",
    case_id="caseId",
    court="court",
    position="queueNo",
    amount_controlled="frozenValue",
    amount_deducted="deductedValue",  # never sent: securities are not deducted
    effective_at="startTime",
    expires_at="endTime",
    reason="remark",
    promoted="promoted",
    decided_at="handleTime",
    ahead_expires_at="aheadEndTime",
)


_CONTROLS = ControlFields(
    control_id="freezeNo",
    court="court",
    action="measure",
    status="state",
    registered_at="regTime",
    expires_at="endTime",
    position="queueNo",
    amount="frozenValue",
)


def _account(a: dict[str, Any]) -> SecuritiesAsset:
    holder = a["holder"]
    owner = RegistryOwner(
        name=holder["holderName"],
        id_type=_ID_TYPES.get(holder.get("certType"), holder.get("certType")),
        id_number=holder.get("certNo"),
    )
    controls = existing_controls(a.get("freezes"), _CONTROLS)
    return SecuritiesAsset(
        agency="securities",
        ref=a["acctNo"],
        owner=owner,
        value=a["marketValue"],
        controls=controls,
        holdings=[
            SecurityPosition(
                code=p["secCode"], name=p.get("secName"), quantity=p["qty"], market_value=p["mktValue"]
            )
            for p in a.get("positions") or []
        ],
        frozen_value=a.get("frozenValue"),
        account_type=a.get("acctType"),
        opened_on=a.get("openDate"),
    )


def _data(reply: Any) -> dict[str, Any]:
    """The ``data`` of a success reply; ``ValueError`` for a reply whose ``retCode`` is not 0000."""
    if reply.get("retCode") != "0000":
        raise ValueError(f"{reply.get('retCode')}: {reply.get('retMsg')}")
    data: dict[str, Any] = reply["data"]
    return data


class SecuritiesAdapter(AgencyAdapter):
    agency = "securities"

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._credential}"}

    async def inquire(self, client: httpx.AsyncClient, request: AgencyRequest) -> InquiryAnswer:
        ids = list(dict.fromkeys(f.id_number for f in request.identifiers))
        answer = InquiryAnswer()
        after: str | None = None
        while True:
            params: dict[str, Any] = {"holderName": request.subject.name, "certNo": ids, "size": SIZE}
            if after is not None:
                params["after"] = after
            response = await client.get(
                self.url("/csdc/v3/accounts"), params=params, headers=self.auth_headers()
            )
            self.classify_response(response)
            with self.reading_reply():
                data = _data(response.json())
                answer.records.extend(_account(a) for a in data["accounts"])
                last = data.get("lastAcctNo")
                more = bool(data["hasMore"]) and bool(data["accounts"])
                if more and (not isinstance(last, str) or (after is not None and last <= after)):
                    raise ValueError(f"hasMore without a later lastAcctNo ({last!r} after {after!r})")
            if not more:
                return answer
            after = last

    async def execute_control(self, client: httpx.AsyncClient, command: ControlCommand) -> ControlOutcome:
        common: dict[str, Any] = {
            "acctNo": command.asset_ref,
            "court": command.court_id,
            "caseNo": command.case_number,
            "caseId": command.case_id,
            "days": command.period_days,
        }
        if command.action in REGISTERING:
            body = {
                **common,
                "measure": command.action.upper(),
                "freezeValue": f"{command.amount:.2f}" if command.amount is not None else None,
                "approver": command.approved_by,
            }
            path = f"/csdc/v3/judicial-freezes/{quote(command.order_id, safe='')}"
            method = "PUT"
        elif command.action in _OPERATIONS:
            body = {**common, "requestNo": command.order_id, "operation": _OPERATIONS[command.action]}
            path = f"/csdc/v3/judicial-freezes/{quote(control_id_of(self, command), safe='')}"
            method = "PATCH"
        else:
            raise PermanentRegistryError(self.agency, f"the depository does not {command.action} securities")
        return await send_control(self, client, command, path, _REPLY, method=method, json=body, unwrap=_data)

    def error_message(self, response: httpx.Response) -> str:
        try:
            body = response.json()
            return f"{body['retCode']}: {body['retMsg']}"
        except (ValueError, KeyError, TypeError):
            return super().error_message(response)
