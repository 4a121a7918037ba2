"""Banks: one inquiry standard shared by every bank, one registry (and credential) per bank.

``POST /fi/v1/deposit-inquiries`` with ``{"customer": {"name", "documents": [{"type", "number"}]},
"cursor", "limit"}``; headers ``X-Client-Id`` and ``X-Client-Secret``; follow ``next_cursor``
until null. Errors: ``{"error": {"code", "message"}}``.

Control orders carry the order id as the ``Idempotency-Key`` header: ``POST /fi/v1/freezes`` and
``POST /fi/v1/freezes/{holdId}/deduct|renew|release|expire``; the reply's ``status`` is the outcome.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from schemas.models import (
    AgencyRequest,
    ControlCommand,
    ControlOutcome,
    DepositAsset,
    RegistryOwner,
)

from .adapter import AgencyAdapter, InquiryAnswer
from .control_wire import REGISTERING, ReplyFields, control_id_of, send_control
from .record_fields import ControlFields, existing_controls

__all__ = ["BankAdapter"]

LIMIT = 20
CLIENT_ID = "enforcement-hub"
_DOC_TYPES = {"resident_id": "101", "uscc": "201", "org_code": "202", "business_reg_no": "203"}
_ID_TYPES: dict[str | None, str] = {v: k for k, v in _DOC_TYPES.items()}


# where this registry's control reply keeps each part of the outcome
_REPLY = ReplyFields(
    outcome=lambda r: str(r["status"]),
    control_id="holdId",
    order_id="idempotencyKey",
    case_id="caseId",
    court="court",
    position="queue",
    amount_controlled="frozenAmount",
    amount_deducted="deductedAmount",
    effective_at="effectiveAt",
    expires_at="expiresAt",
    reason="message",
    promoted="promoted",
    decided_at="processedAt",
    ahead_expires_at="aheadExpiresAt",
)


_CONTROLS = ControlFields(
    control_id="holdId",
    court="court",
    action="holdType",
    status="state",
    registered_at="placedAt",
    expires_at="expiresAt",
    position="queue",
    amount="amount",
)


class BankAdapter(AgencyAdapter):
    def __init__(self, code: str, base_url: str, credential: str) -> None:
        super().__init__(base_url, credential)
        self.code = code
        self.agency = f"bank:{code}"

    def auth_headers(self) -> dict[str, str]:
        return {"X-Client-Id": CLIENT_ID, "X-Client-Secret": self._credential}

    def _account(self, a: dict[str, Any]) -> DepositAsset:
        h = a["holder"]
        owner = RegistryOwner(
            name=h["name"],
            id_type=_ID_TYPES.get(h.get("docType"), h.get("docType")),
            id_number=h.get("docNumber"),
        )
        controls = existing_controls(a.get("holds"), _CONTROLS)
        return DepositAsset(
            agency=self.agency,
            ref=a["accountNo"],
            owner=owner,
            value=a["balance"],
            controls=controls,
            account_type=a.get("productType"),
            currency=a.get("currency") or "CNY",
            branch=a.get("branchName"),
            available=a.get("availableBalance"),
        )

    async def inquire(self, client: httpx.AsyncClient, request: AgencyRequest) -> InquiryAnswer:
        documents = [
            {"type": _DOC_TYPES.get(f.id_type, f.id_type), "number": f.id_number} for f in request.identifiers
        ]
        answer = InquiryAnswer()
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            body = {
                "customer": {"name": request.subject.name, "documents": documents},
                "cursor": cursor,
                "limit": LIMIT,
            }
            response = await client.post(
                self.url("/fi/v1/deposit-inquiries"), json=body, headers=self.auth_headers()
            )
            self.classify_response(response)
            with self.reading_reply():
                reply = response.json()
                answer.records.extend(self._account(a) for a in reply["accounts"])
                cursor = reply["next_cursor"]
                if cursor in seen:
                    raise ValueError("next_cursor repeats: paging would never end")
            if cursor is None:
                return answer
            seen.add(cursor)

    async def execute_control(self, client: httpx.AsyncClient, command: ControlCommand) -> ControlOutcome:
        body: dict[str, Any] = {
            "accountNo": command.asset_ref,
            "court": command.court_id,
            "caseNumber": command.case_number,
            "caseId": command.case_id,
            "amount": f"{command.amount:.2f}" if command.amount is not None else None,
            "periodDays": command.period_days,
            "approvedBy": command.approved_by,
        }
        if command.action in REGISTERING:
            body["holdType"] = command.action
            path = "/fi/v1/freezes"
        else:
            path = f"/fi/v1/freezes/{quote(control_id_of(self, command), safe='')}/{command.action}"
        headers = {**self.auth_headers(), "Idempotency-Key": command.order_id}
        return await send_control(self, client, command, path, _REPLY, json=body, headers=headers)

    def error_message(self, response: httpx.Response) -> str:
        try:
            err = response.json()["error"]
            return f"{err['code']}: {err['message']}"
        except (ValueError, KeyError, TypeError):
            return super().error_message(response)
