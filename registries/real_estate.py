"""Real estate (不动产登记) registry: property rights, mortgages, existing seizures.

``GET /rest/v1/rights?ownerIdNo=<id>&ownerIdNo=<id>...&ownerName=<name>&offset=0&limit=25``,
HTTP Basic authentication (user ``enforcement-hub``, the issued password).

Reply ``{"total", "offset", "limit", "items": [{"certificateNo", "owner": {"name", "idType",
"idNo"}, "location", "areaSqm", "usage", "assessedValue", "mortgages": [{"mortgagee", "amount",
"registeredOn"}], "restrictions": [{"court", "kind", "registeredAt", "expiresAt", "queuePosition",
"status"}]}]}``; ``limit`` at most 25. Errors are RFC 7807 ``application/problem+json``
(``type``, ``title``, ``status``, ``detail``).

Search: rights whose recorded ``idNo`` equals any ``ownerIdNo`` sent, or whose owner name equals
``ownerName`` after the registries' name folding. ``restrictions`` lists the right's current
seizures from the register (``restrictionId``, ``status`` effective|waiting|expired (lapsed, with
``expiresAt``), ``queuePosition``
0 = in effect, n = n-th waiting).

Seizures (查封), rules in ``registries.controls``:

- ``POST /rest/v1/rights/{certificateNo}/restrictions`` ``{"requestId" (idempotency key), "court",
  "caseNumber", "caseId", "kind": "SEIZURE" | "FREEZE", "amount", "periodDays", "approvedBy"}``
  → 201;
- ``POST /rest/v1/restrictions/{restrictionId}/actions`` ``{"requestId", "certificateNo",
  "action": "RENEW" | "RELEASE" | "EXPIRE" | "DEDUCT" | "STATUS", "court", "caseId", "caseNumber",
  "periodDays", "amount"}`` → 200 (``STATUS`` reads the restriction as it is now, not remembered).

Reply ``{"requestId", "restrictionId", "result": IN_EFFECT | QUEUED | PARTIAL | RENEWED | RELEASED
| DEDUCTED | EXPIRED, "queuePosition", "amountControlled", "amountDeducted", "effectiveAt",
"expiresAt", "note", "aheadExpiresAt" (queued: when the restriction ahead ends), "promoted":
[{"restrictionId", "requestId", "caseId", "court",
"amountControlled", "effectiveAt", "expiresAt"}], "decidedAt"}``. A refusal is a 409 problem
(``type`` ``.../restriction-refused``, ``detail`` = the reason) extended with ``requestId``,
``restrictionId``, ``result: "REJECTED"`` and ``decidedAt``; an unknown certificate is a 404
problem. Repeating a ``requestId`` repeats the first answer, status included.
"""

from __future__ import annotations

import base64
import binascii
from http import HTTPStatus
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from .api import BadRequest, RegistryApi, amount, iso, parse_amount, secret_matches, wire
from .controls import Decision, Order, RegControl
from .records import Holding

__all__ = ["ID_TYPES", "REFUSED", "RESULTS", "USERNAME", "RealEstateApi"]

LIMIT_MAX = 25
USERNAME = "enforcement-hub"
ID_TYPES = {
    "resident_id": "ID_CARD",
    "uscc": "USCC",
    "org_code": "ORG_CODE",
    "business_reg_no": "BIZ_LICENCE",
}


RESULTS = {
    "effective": "IN_EFFECT",
    "waiting": "QUEUED",
    "partial": "PARTIAL",
    "rejected": "REJECTED",
    "renewed": "RENEWED",
    "released": "RELEASED",
    "deducted": "DEDUCTED",
    "expired": "EXPIRED",
}
REFUSED = "https://bdc.example.gov.cn/problems/restriction-refused"
_KINDS = {"SEIZURE": "seize", "FREEZE": "freeze"}


class _Restriction(BaseModel):
    requestId: str = Field(min_length=1, max_length=128)
    court: str = Field(min_length=1)
    caseNumber: str | None = None
    caseId: str | None = None
    kind: str = "SEIZURE"
    amount: str | None = None
    periodDays: int | None = None
    approvedBy: str | None = None


class _Action(_Restriction):
    certificateNo: str = Field(min_length=1)
    action: str


def _decision(d: Decision) -> JSONResponse:
    if d.outcome == "rejected":
        problem = {
            "type": REFUSED,
            "title": "Conflict",
            "status": 409,
            "detail": d.reason,
            "requestId": d.order_id,
            "restrictionId": d.control_id,
            "result": RESULTS[d.outcome],
            "decidedAt": iso(d.decided_at),
        }
        return JSONResponse(problem, 409, media_type="application/problem+json")
    body = {
        "requestId": d.order_id,
        "restrictionId": d.control_id,
        "result": RESULTS[d.outcome],
        "queuePosition": d.position,
        "amountControlled": amount(d.amount_controlled),
        "amountDeducted": amount(d.amount_deducted),
        "effectiveAt": iso(d.effective_at),
        "expiresAt": iso(d.expires_at),
        "note": d.reason,
        "aheadExpiresAt": iso(d.ahead_expires_at),
        "promoted": [
            {
                "restrictionId": p.control_id,
                "requestId": p.order_id,
                "caseId": p.case_id,
                "court": p.court,
                "amountControlled": amount(p.amount),
                "effectiveAt": iso(p.effective_at),
                "expiresAt": iso(p.expires_at),
            }
            for p in d.promoted
        ],
        "decidedAt": iso(d.decided_at),
    }
    return JSONResponse(body, 201 if d.action in ("seize", "freeze") else 200)


def _right(h: Holding, controls: list[RegControl]) -> dict[str, Any]:
    d = h.details
    return {
        "certificateNo": h.ref,
        "owner": {
            "name": h.owner.name,
            "idType": ID_TYPES.get(h.owner.id_type or "", h.owner.id_type),
            "idNo": h.owner.id_number,
        },
        "location": d.get("address"),
        "areaSqm": amount(d.get("area_m2")),
        "usage": d.get("usage"),
        "assessedValue": amount(h.value),
        "mortgages": [
            {
                "mortgagee": m.get("mortgagee"),
                "amount": wire(m.get("amount")),
                "registeredOn": wire(m.get("registered_on")),
            }
            for m in d.get("mortgages", [])
        ],
        "restrictions": [
            {
                "restrictionId": c.control_id,
                "court": c.court,
                "kind": c.action,
                "registeredAt": iso(c.registered_at),
                "expiresAt": iso(c.expires_at),
                "queuePosition": c.position,
                "status": c.status,
            }
            for c in controls
        ],
    }


class RealEstateApi(RegistryApi):
    CONTROL_PREFIX = "BDC"

    def authenticated(self, request: Request) -> bool:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(token, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return secret_matches(user, USERNAME) and secret_matches(password, self.credential)

    def error(self, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        headers = dict(headers or {})
        if status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="bdc"'
        body = {
            "type": "about:blank",
            "title": HTTPStatus(status).phrase,
            "status": status,
            "detail": message,
        }
        return JSONResponse(body, status, headers, media_type="application/problem+json")

    def router(self) -> APIRouter:
        router = APIRouter()

        @router.get("/rest/v1/rights")
        async def rights(
            ownerIdNo: Annotated[list[str] | None, Query()] = None,
            ownerName: str | None = None,
            offset: int = 0,
            limit: int = LIMIT_MAX,
        ) -> dict[str, Any]:
            if not ownerIdNo and not ownerName:
                raise BadRequest("ownerIdNo or ownerName is required")
            if offset < 0 or limit < 1:
                raise BadRequest("offset must be >= 0 and limit >= 1")
            limit = min(limit, LIMIT_MAX)
            found = self.store.search(ownerIdNo or [], ownerName)
            return {
                "total": len(found),
                "offset": offset,
                "limit": limit,
                "items": [_right(h, self.current_controls(h)[1]) for h in found[offset : offset + limit]],
            }

        @router.post("/rest/v1/rights/{certificateNo}/restrictions")
        async def restrict(certificateNo: str, body: _Restriction) -> Response:
            action = _KINDS.get(body.kind.upper(), body.kind)
            return _decision(self.execute(self._order(body, action, certificateNo)))

        @router.post("/rest/v1/restrictions/{restrictionId}/actions")
        async def act(restrictionId: str, body: _Action) -> Response:
            action = body.action.lower()
            if action not in ("renew", "release", "expire", "deduct", "status"):
                raise BadRequest("action must be RENEW, RELEASE, EXPIRE, DEDUCT or STATUS")
            return _decision(self.execute(self._order(body, action, body.certificateNo, restrictionId)))

        return router

    @staticmethod
    def _order(body: _Restriction, action: str, ref: str, restriction_id: str | None = None) -> Order:
        return Order(
            order_id=body.requestId,
            action=action,
            asset_ref=ref,
            court=body.court,
            case_id=body.caseId,
            case_number=body.caseNumber,
            amount=parse_amount(body.amount, "amount"),
            control_id=restriction_id,
            period_days=body.periodDays,
            approved_by=body.approvedBy,
        )
