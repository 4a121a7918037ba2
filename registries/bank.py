"""Bank registries: one shared inquiry standard, one service (and one credential) per bank.

``POST /fi/v1/deposit-inquiries``, headers ``X-Client-Id: enforcement-hub`` and
``X-Client-Secret``, JSON ``{"customer": {"name": "...", "documents": [{"type": "101", "number":
"..."}]}, "cursor": null, "limit": 20}``. Document types: 101 resident id, 201 credit code,
202 organisation code, 203 business licence.

Reply ``{"accounts": [{"accountNo", "holder": {"name", "docType", "docNumber"}, "productType",
"currency", "branchName", "balance", "availableBalance", "holds": [{"court", "holdType", "amount",
"placedAt", "expiresAt", "queue", "state"}]}], "next_cursor": "<opaque>" | null}``; ``limit`` at
most 20; follow ``next_cursor`` until it is null. Errors: ``{"error": {"code", "message"}}``.

Search: accounts whose recorded holder ``docNumber`` equals any document number sent, or whose
holder name equals ``customer.name`` after the registries' name folding. ``balance`` and
``availableBalance`` (balance less what freezes in effect hold) and ``holds`` (current freezes:
``holdId``, ``state`` effective|waiting|expired (lapsed, with ``expiresAt``), ``queue`` 0 = in effect, n
= n-th waiting, ``amount``
frozen or, while waiting, asked) come from the bank's register.

Freezes (冻结) and deductions (扣划), rules in ``registries.controls``; every call carries the
header ``Idempotency-Key`` (the order id):

- ``POST /fi/v1/freezes`` ``{"accountNo", "court", "caseNumber", "caseId", "holdType": "freeze",
  "amount", "periodDays", "approvedBy"}``;
- ``POST /fi/v1/freezes/{holdId}/deduct|renew|release|expire|status`` ``{"accountNo", "court",
  "caseNumber", "caseId", "amount" (deduct), "periodDays" (renew)}``; ``status`` reads the hold as
  it is now (``status`` effective | waiting | expired | released | deducted) and is not remembered.

Reply ``{"holdId", "idempotencyKey", "status": effective | waiting | partial | rejected | renewed |
released | deducted | expired, "queue", "frozenAmount", "deductedAmount", "effectiveAt",
"expiresAt", "message", "aheadExpiresAt" (waiting: when the hold ahead ends), "promoted": [{"holdId",
"idempotencyKey", "caseId", "court",
"frozenAmount", "effectiveAt", "expiresAt"}], "processedAt"}``. Unknown account: 404 ``not_found``.
"""

from __future__ import annotations

import base64
import binascii
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from .api import BadRequest, RegistryApi, amount, iso, parse_amount, secret_matches
from .controls import Decision, Order, RegControl
from .records import Holding

__all__ = ["CLIENT_ID", "DOC_TYPES", "BankApi"]

LIMIT_MAX = 20
CLIENT_ID = "enforcement-hub"
DOC_TYPES = {"resident_id": "101", "uscc": "201", "org_code": "202", "business_reg_no": "203"}
_ERROR_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    404: "not_found",
    429: "rate_limited",
    503: "service_unavailable",
}


class _Document(BaseModel):
    type: str
    number: str = Field(min_length=1)


class _Customer(BaseModel):
    name: str | None = None
    documents: list[_Document] = Field(default_factory=list)


class _Inquiry(BaseModel):
    customer: _Customer
    cursor: str | None = None
    limit: int = Field(LIMIT_MAX, ge=1)


class _Hold(BaseModel):
    accountNo: str = Field(min_length=1)
    court: str = Field(min_length=1)
    caseNumber: str | None = None
    caseId: str | None = None
    holdType: str = "freeze"
    amount: str | None = None
    periodDays: int | None = None
    approvedBy: str | None = None


_VERBS = ("deduct", "renew", "release", "expire", "status")


def _decision(d: Decision) -> dict[str, Any]:
    return {
        "holdId": d.control_id,
        "idempotencyKey": d.order_id,
        "status": d.outcome,
        "queue": d.position,
        "frozenAmount": amount(d.amount_controlled),
        "deductedAmount": amount(d.amount_deducted),
        "effectiveAt": iso(d.effective_at),
        "expiresAt": iso(d.expires_at),
        "message": d.reason,
        "aheadExpiresAt": iso(d.ahead_expires_at),
        "promoted": [
            {
                "holdId": p.control_id,
                "idempotencyKey": p.order_id,
                "caseId": p.case_id,
                "court": p.court,
                "frozenAmount": amount(p.amount),
                "effectiveAt": iso(p.effective_at),
                "expiresAt": iso(p.expires_at),
            }
            for p in d.promoted
        ],
        "processedAt": iso(d.decided_at),
    }


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def _decode_cursor(cursor: str | None) -> int:
    if cursor is None:
        return 0
    try:
        tag, _, offset = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if tag == "o" and offset.isdigit():
            return int(offset)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise BadRequest("cursor is not one this bank issued")


def _account(h: Holding, balance: Decimal, controls: list[RegControl]) -> dict[str, Any]:
    held = sum((c.amount or Decimal(0) for c in controls if c.status == "effective"), Decimal(0))
    return {
        "accountNo": h.ref,
        "holder": {
            "name": h.owner.name,
            "docType": DOC_TYPES.get(h.owner.id_type or "", h.owner.id_type),
            "docNumber": h.owner.id_number,
        },
        "productType": h.details.get("account_type"),
        "currency": h.details.get("currency", "CNY"),
        "branchName": h.details.get("branch"),
        "balance": amount(balance),
        "availableBalance": amount(max(balance - held, Decimal("0.00"))),
        "holds": [
            {
                "holdId": c.control_id,
                "court": c.court,
                "holdType": c.action,
                "amount": amount(c.amount),
                "placedAt": iso(c.registered_at),
                "expiresAt": iso(c.expires_at),
                "queue": c.position,
                "state": c.status,
            }
            for c in controls
        ],
    }


class BankApi(RegistryApi):
    def authenticated(self, request: Request) -> bool:
        return secret_matches(request.headers.get("X-Client-Id"), CLIENT_ID) and secret_matches(
            request.headers.get("X-Client-Secret"), self.credential
        )

    def error(self, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        return JSONResponse(
            {"error": {"code": _ERROR_CODES.get(status, f"http_{status}"), "message": message}},
            status,
            headers,
        )

    def router(self) -> APIRouter:
        router = APIRouter()

        @router.post("/fi/v1/deposit-inquiries")
        async def inquiries(q: _Inquiry) -> dict[str, Any]:
            if not q.customer.name and not q.customer.documents:
                raise BadRequest("customer.name or customer.documents is required")
            start, limit = _decode_cursor(q.cursor), min(q.limit, LIMIT_MAX)
            found = self.store.search([d.number for d in q.customer.documents], q.customer.name)
            end = start + limit
            return {
                "accounts": [_account(h, *self.current_controls(h)) for h in found[start:end]],
                "next_cursor": _encode_cursor(end) if end < len(found) else None,
            }

        @router.post("/fi/v1/freezes")
        async def freeze(
            body: _Hold, idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None
        ) -> dict[str, Any]:
            return _decision(self.execute(self._order(body, body.holdType.lower(), idempotency_key)))

        @router.post("/fi/v1/freezes/{holdId}/{verb}")
        async def change(
            holdId: str,
            verb: str,
            body: _Hold,
            idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
        ) -> dict[str, Any]:
            if verb not in _VERBS:
                raise BadRequest(f"unknown operation {verb!r} (deduct, renew, release, expire, status)", 404)
            return _decision(self.execute(self._order(body, verb, idempotency_key, holdId)))

        return router

    @staticmethod
    def _order(body: _Hold, action: str, key: str | None, hold_id: str | None = None) -> Order:
        if not key:
            raise BadRequest("the Idempotency-Key header is required")
        return Order(
            order_id=key,
            action=action,
            asset_ref=body.accountNo,
            court=body.court,
            case_id=body.caseId,
            case_number=body.caseNumber,
            amount=parse_amount(body.amount, "amount"),
            control_id=hold_id,
            period_days=body.periodDays,
            approved_by=body.approvedBy,
        )
