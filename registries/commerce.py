"""Commerce (市场监管) registry: shareholders' equity in companies.

``POST /open/v1/equity/query``, header ``Authorization: AppCode <key>``, JSON body
``{"party": {"name": "...", "certs": [{"certType": "SFZ", "certNo": "..."}]}, "pageNo": 1,
"pageSize": 20}``. Certificate types: SFZ (resident id), TYSHXYDM (credit code), ZZJGDM
(organisation code), ZCH (business registration number).

Reply ``{"success": true, "result": {"total", "pageNo", "pageSize", "list": [{"investorName",
"investorCertType", "investorCertNo", "entName", "uniscId", "conRatio", "subConAmWan",
"assessedValue", "frozen": [{"court", "type", "amountWan", "regDate", "expireDate", "seq",
"state"}]}]}}``. Capital is stated in 万元 (ten thousand yuan) as commerce registers do;
``assessedValue`` in yuan. ``pageSize`` at most 20. Errors: ``{"success": false, "errorCode",
"errorMessage"}``.

Search: stakes whose recorded investor ``certNo`` equals any ``certNo`` sent (whatever the
``certType``), or whose investor name equals ``party.name`` after NFKC and removing whitespace.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from .api import BadRequest, RegistryApi, amount, iso, secret_matches
from .records import Holding

__all__ = ["CERT_TYPES", "CommerceApi"]

PAGE_SIZE_MAX = 20
CERT_TYPES = {"resident_id": "SFZ", "uscc": "TYSHXYDM", "org_code": "ZZJGDM", "business_reg_no": "ZCH"}
_ERROR_CODES = {
    400: "INVALID_PARAM",
    401: "AUTH_FAILED",
    404: "NOT_FOUND",
    429: "RATE_LIMITED",
    503: "SERVICE_UNAVAILABLE",
}


class _Cert(BaseModel):
    certType: str
    certNo: str = Field(min_length=1)


class _Party(BaseModel):
    name: str | None = None
    certs: list[_Cert] = Field(default_factory=list)


class _Query(BaseModel):
    party: _Party
    pageNo: int = Field(1, ge=1)
    pageSize: int = Field(PAGE_SIZE_MAX, ge=1)


def _wan(value: Decimal | None) -> str | None:
    return format(value.scaleb(-4), "f") if value is not None else None


def _stake(h: Holding) -> dict[str, Any]:
    d = h.details
    return {
        "investorName": h.owner.name,
        "investorCertType": CERT_TYPES.get(h.owner.id_type or "", h.owner.id_type),
        "investorCertNo": h.owner.id_number,
        "entName": d.get("company_name"),
        "uniscId": h.ref,
        "conRatio": d.get("share_ratio"),
        "subConAmWan": _wan(d.get("subscribed_capital")),
        "assessedValue": amount(h.value),
        "frozen": [
            {
                "court": c.court,
                "type": c.action,
                "amountWan": _wan(c.amount),
                "regDate": iso(c.registered_at),
                "expireDate": iso(c.expires_at),
                "seq": c.position,
                "state": c.status,
            }
            for c in h.controls
        ],
    }


class CommerceApi(RegistryApi):
    def authenticated(self, request: Request) -> bool:
        scheme, _, key = request.headers.get("Authorization", "").partition(" ")
        return scheme == "AppCode" and secret_matches(key, self.credential)

    def error(self, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        body = {
            "success": False,
            "errorCode": _ERROR_CODES.get(status, f"HTTP_{status}"),
            "errorMessage": message,
        }
        return JSONResponse(body, status, headers)

    def router(self) -> APIRouter:
        router = APIRouter()

        @router.post("/open/v1/equity/query")
        def query(q: _Query) -> dict[str, Any]:
            if not q.party.name and not q.party.certs:
                raise BadRequest("party.name or party.certs is required")
            found = self.store.search([c.certNo for c in q.party.certs], q.party.name)
            size = min(q.pageSize, PAGE_SIZE_MAX)
            page = found[(q.pageNo - 1) * size : q.pageNo * size]
            return {
                "success": True,
                "result": {
                    "total": len(found),
                    "pageNo": q.pageNo,
                    "pageSize": size,
                    "list": [_stake(h) for h in page],
                },
            }

        return router
