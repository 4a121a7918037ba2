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
``certType``), or whose investor name equals ``party.name`` after the registries' name folding.
``frozen`` lists the stake's current freezes from the register (``freezeId``, ``state``
effective|waiting|expired (lapsed, with ``expireDate``), ``seq`` 0 = in effect, n = n-th waiting).

Equity freezes (股权冻结), rules in ``registries.controls``:

- ``POST /open/v1/equity/freezes`` ``{"bizSeq" (idempotency key), "uniscId", "court", "caseNo",
  "caseId", "measure": "FREEZE" | "SEIZE", "amountWan", "periodDays", "approver"}``;
- ``POST /open/v1/equity/freezes/{freezeId}/renew|release|expire|deduct|status`` ``{"bizSeq",
  "uniscId", "court", "caseNo", "caseId", "periodDays", "amountWan"}``; ``status`` reads the freeze
  as it is now and is not remembered.

A freeze freezes subscribed capital of the investor's stake: ``amountWan`` asked (at most the stake's
``subConAmWan``, else REJECTED), or all of it when none is asked; the reply's ``amountWan`` is what it
froze.

Reply ``{"success": true, "result": {"bizSeq", "freezeId", "status": EFFECTIVE | WAITING | PARTIAL |
REJECTED | RENEWED | RELEASED | DEDUCTED | EXPIRED, "seq", "amountWan", "deductedWan",
"effectiveDate", "expireDate", "remark", "aheadExpireDate" (waiting: when the freeze ahead ends),
"promoted": [{"freezeId", "bizSeq", "caseId", "court",
"amountWan", "effectiveDate", "expireDate"}], "handledAt"}}``. An unknown ``uniscId``: 404
``NOT_FOUND``; a ``uniscId`` under which several stakes are registered is refused (REJECTED) since
an order names no investor.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from .api import BadRequest, RegistryApi, amount, iso, parse_amount, secret_matches
from .controls import Decision, Order, RegControl
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


class _Freeze(BaseModel):
    bizSeq: str = Field(min_length=1, max_length=128)
    uniscId: str = Field(min_length=1)
    court: str = Field(min_length=1)
    caseNo: str | None = None
    caseId: str | None = None
    measure: str = "FREEZE"
    amountWan: str | None = None
    periodDays: int | None = None
    approver: str | None = None
    investorCertNo: str | None = Field(
        default=None, description="whose stake, when several share the company"
    )


_VERBS = ("renew", "release", "expire", "deduct", "status")


def _wan(value: Decimal | None) -> str | None:
    return format(value.scaleb(-4), "f") if value is not None else None


def _decision(d: Decision) -> dict[str, Any]:
    return {
        "success": True,
        "result": {
            "bizSeq": d.order_id,
            "freezeId": d.control_id,
            "status": d.outcome.upper(),
            "seq": d.position,
            "amountWan": _wan(d.amount_controlled),
            "deductedWan": _wan(d.amount_deducted),
            "effectiveDate": iso(d.effective_at),
            "expireDate": iso(d.expires_at),
            "remark": d.reason,
            "aheadExpireDate": iso(d.ahead_expires_at),
            "promoted": [
                {
                    "freezeId": p.control_id,
                    "bizSeq": p.order_id,
                    "caseId": p.case_id,
                    "court": p.court,
                    "amountWan": _wan(p.amount),
                    "effectiveDate": iso(p.effective_at),
                    "expireDate": iso(p.expires_at),
                }
                for p in d.promoted
            ],
            "handledAt": iso(d.decided_at),
        },
    }


def _stake(h: Holding, controls: list[RegControl]) -> dict[str, Any]:
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
                "freezeId": c.control_id,
                "court": c.court,
                "type": c.action,
                "amountWan": _wan(c.amount),
                "regDate": iso(c.registered_at),
                "expireDate": iso(c.expires_at),
                "seq": c.position,
                "state": c.status,
            }
            for c in controls
        ],
    }


class CommerceApi(RegistryApi):
    CONTROL_PREFIX = "SJ"

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
        async def query(q: _Query) -> dict[str, Any]:
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
                    "list": [_stake(h, self.current_controls(h)[1]) for h in page],
                },
            }

        @router.post("/open/v1/equity/freezes")
        async def freeze(body: _Freeze) -> dict[str, Any]:
            return _decision(self.execute(self._order(body, body.measure.lower())))

        @router.post("/open/v1/equity/freezes/{freezeId}/{verb}")
        async def change(freezeId: str, verb: str, body: _Freeze) -> dict[str, Any]:
            if verb not in _VERBS:
                raise BadRequest(f"unknown operation {verb!r} (renew, release, expire, deduct, status)", 404)
            return _decision(self.execute(self._order(body, verb, freezeId)))

        return router

    @staticmethod
    def _order(body: _Freeze, action: str, freeze_id: str | None = None) -> Order:
        wan = parse_amount(body.amountWan, "amountWan")
        return Order(
            order_id=body.bizSeq,
            action=action,
            asset_ref=body.uniscId,
            court=body.court,
            case_id=body.caseId,
            case_number=body.caseNo,
            amount=wan.scaleb(4) if wan is not None else None,
            control_id=freeze_id,
            period_days=body.periodDays,
            approved_by=body.approver,
            owner_id=body.investorCertNo,
        )
