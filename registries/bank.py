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
holder name equals ``customer.name`` after NFKC and removing whitespace.
"""

from __future__ import annotations

import base64
import binascii
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from .api import BadRequest, RegistryApi, amount, iso, secret_matches
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


def _account(h: Holding) -> dict[str, Any]:
    held = sum((c.amount or Decimal(0) for c in h.controls if c.status == "effective"), Decimal(0))
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
        "balance": amount(h.value),
        "availableBalance": amount(max(h.value - held, Decimal("0.00"))),
        "holds": [
            {
                "court": c.court,
                "holdType": c.action,
                "amount": amount(c.amount),
                "placedAt": iso(c.registered_at),
                "expiresAt": iso(c.expires_at),
                "queue": c.position,
                "state": c.status,
            }
            for c in h.controls
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
        def inquiries(q: _Inquiry) -> dict[str, Any]:
            if not q.customer.name and not q.customer.documents:
                raise BadRequest("customer.name or customer.documents is required")
            start, limit = _decode_cursor(q.cursor), min(q.limit, LIMIT_MAX)
            found = self.store.search([d.number for d in q.customer.documents], q.customer.name)
            end = start + limit
            return {
                "accounts": [_account(h) for h in found[start:end]],
                "next_cursor": _encode_cursor(end) if end < len(found) else None,
            }

        return router
