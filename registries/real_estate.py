"""Real estate (不动产登记) registry: property rights, mortgages, existing seizures.

``GET /rest/v1/rights?ownerIdNo=<id>&ownerIdNo=<id>...&ownerName=<name>&offset=0&limit=25``,
HTTP Basic authentication (user ``enforcement-hub``, the issued password).

Reply ``{"total", "offset", "limit", "items": [{"certificateNo", "owner": {"name", "idType",
"idNo"}, "location", "areaSqm", "usage", "assessedValue", "mortgages": [{"mortgagee", "amount",
"registeredOn"}], "restrictions": [{"court", "kind", "registeredAt", "expiresAt", "queuePosition",
"status"}]}]}``; ``limit`` at most 25. Errors are RFC 7807 ``application/problem+json``
(``type``, ``title``, ``status``, ``detail``).

Search: rights whose recorded ``idNo`` equals any ``ownerIdNo`` sent, or whose owner name equals
``ownerName`` after NFKC and removing whitespace.
"""

from __future__ import annotations

import base64
import binascii
from http import HTTPStatus
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from .api import BadRequest, RegistryApi, amount, iso, secret_matches, wire
from .records import Holding

__all__ = ["ID_TYPES", "USERNAME", "RealEstateApi"]

LIMIT_MAX = 25
USERNAME = "enforcement-hub"
ID_TYPES = {
    "resident_id": "ID_CARD",
    "uscc": "USCC",
    "org_code": "ORG_CODE",
    "business_reg_no": "BIZ_LICENCE",
}


def _right(h: Holding) -> dict[str, Any]:
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
                "court": c.court,
                "kind": c.action,
                "registeredAt": iso(c.registered_at),
                "expiresAt": iso(c.expires_at),
                "queuePosition": c.position,
                "status": c.status,
            }
            for c in h.controls
        ],
    }


class RealEstateApi(RegistryApi):
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
        def rights(
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
                "items": [_right(h) for h in found[offset : offset + limit]],
            }

        return router
