"""Securities depository (证券登记结算) registry: securities accounts, their holdings, judicial freezes.

``GET /csdc/v3/accounts?holderName=<name>&certNo=<id>&certNo=<id>...&after=<acctNo>&size=10``,
header ``Authorization: Bearer <issued token>``. Keyset paging: accounts come in order of account
number; ``size`` at most 10; while ``hasMore`` ask again with ``after`` = the page's ``lastAcctNo``.

Reply ``{"retCode": "0000", "retMsg": "成功", "data": {"accounts": [{"acctNo", "acctType",
"openDate", "holder": {"holderName", "certType", "certNo"}, "marketValue", "frozenValue",
"positions": [{"secCode", "secName", "qty", "mktValue"}], "freezes": [{"freezeNo", "court",
"measure", "frozenValue", "regTime", "endTime", "queueNo", "state"}]}], "hasMore", "lastAcctNo"}}``.
Money in yuan as decimal strings; ``qty`` an integer. Certificate types ``certType``: 01 resident id,
07 organisation code, 06 business licence, 08 credit code. Errors: ``{"retCode": "<4 digits>",
"retMsg": "..."}`` (``1001`` bad request, ``1002`` credential refused, ``1004`` unknown account,
``1029`` throttled, ``1099`` unavailable).

Search: accounts whose recorded ``certNo`` equals any ``certNo`` sent, or whose holder name equals
``holderName`` after the registries' name folding. ``marketValue`` is the account's market value;
``frozenValue`` what freezes in effect block of it; ``freezes`` lists the account's current freezes
from the register (``state`` effective|waiting|expired (lapsed, with ``endTime``), ``queueNo`` 0 = in
effect, n = n-th waiting; ``frozenValue`` blocked or, while waiting, asked).

Judicial freezes (司法冻结), rules in ``registries.controls``: a freeze states the market value to
block (``freezeValue``, yuan) and blocks at most what is not yet blocked (``PARTIAL`` when less; none
free: ``QUEUED`` for the whole value); several courts' freezes can be in effect at once; 3 years at
most (as other property rights).

- ``PUT /csdc/v3/judicial-freezes/{requestNo}`` (the request number is the idempotency key)
  ``{"acctNo", "court", "caseNo", "caseId", "measure": "FREEZE" (冻结; the depository refuses
  ``SEIZE``), "freezeValue", "days", "approver"}``;
- ``PATCH /csdc/v3/judicial-freezes/{freezeNo}`` ``{"requestNo", "acctNo", "court", "caseNo",
  "caseId", "operation": "RENEW" (续冻) | "UNFREEZE" (解冻) | "EXPIRE" (到期) | "QUERY" (查询: the
  freeze as it is now, not remembered) | "DEDUCT" (always refused: securities are not deducted, a
  court has them sold), "days"}``.

Reply ``{"retCode": "0000", "retMsg", "data": {"requestNo", "freezeNo", "result": FROZEN | PARTIAL |
QUEUED | REFUSED | RENEWED | UNFROZEN | EXPIRED, "queueNo", "frozenValue", "startTime", "endTime",
"remark" (reason), "aheadEndTime" (queued: when the first freeze in effect ends), "promoted":
[{"freezeNo", "requestNo", "caseId", "court", "frozenValue", "startTime", "endTime"}],
"handleTime"}}``. Unknown account: 404 ``1004``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from .api import BadRequest, RegistryApi, amount, iso, parse_amount, secret_matches
from .controls import Decision, Order, RegControl
from .records import Holding

__all__ = ["CERT_TYPES", "OPERATIONS", "RESULTS", "SecuritiesApi"]

SIZE_MAX = 10
CERT_TYPES = {"resident_id": "01", "business_reg_no": "06", "org_code": "07", "uscc": "08"}
_RET_CODES = {400: "1001", 401: "1002", 403: "1003", 404: "1004", 415: "1015", 429: "1029", 503: "1099"}
OPERATIONS = {
    "RENEW": "renew",
    "UNFREEZE": "release",
    "EXPIRE": "expire",
    "QUERY": "status",
    "DEDUCT": "deduct",
}
RESULTS = {
    "effective": "FROZEN",
    "partial": "PARTIAL",
    "waiting": "QUEUED",
    "rejected": "REFUSED",
    "renewed": "RENEWED",
    "released": "UNFROZEN",
    "expired": "EXPIRED",
    "deducted": "DEDUCTED",
}


class _Freeze(BaseModel):
    acctNo: str = Field(min_length=1)
    court: str = Field(min_length=1)
    caseNo: str | None = None
    caseId: str | None = None
    measure: Literal["FREEZE", "SEIZE"] = "FREEZE"
    freezeValue: str | None = None
    days: int | None = None
    approver: str | None = None


class _Change(BaseModel):
    requestNo: str = Field(min_length=1, max_length=128)
    acctNo: str = Field(min_length=1)
    court: str = Field(min_length=1)
    caseNo: str | None = None
    caseId: str | None = None
    operation: Literal["RENEW", "UNFREEZE", "EXPIRE", "QUERY", "DEDUCT"]
    days: int | None = None


def _ok(data: dict[str, Any]) -> dict[str, Any]:
    return {"retCode": "0000", "retMsg": "成功", "data": data}


def _decision(d: Decision) -> dict[str, Any]:
    return _ok(
        {
            "requestNo": d.order_id,
            "freezeNo": d.control_id,
            "result": RESULTS[d.outcome],
            "queueNo": d.position,
            "frozenValue": amount(d.amount_controlled),
            "startTime": iso(d.effective_at),
            "endTime": iso(d.expires_at),
            "remark": d.reason,
            "aheadEndTime": iso(d.ahead_expires_at),
            "promoted": [
                {
                    "freezeNo": p.control_id,
                    "requestNo": p.order_id,
                    "caseId": p.case_id,
                    "court": p.court,
                    "frozenValue": amount(p.amount),
                    "startTime": iso(p.effective_at),
                    "endTime": iso(p.expires_at),
                }
                for p in d.promoted
            ],
            "handleTime": iso(d.decided_at),
        }
    )


def _position(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "secCode": p["code"],
        "secName": p.get("name"),
        "qty": p["quantity"],
        "mktValue": amount(p["market_value"]),
    }


def _account(h: Holding, value: Decimal, controls: list[RegControl]) -> dict[str, Any]:
    d = h.details
    frozen = sum((c.amount or Decimal(0) for c in controls if c.status == "effective"), Decimal(0))
    return {
        "acctNo": h.ref,
        "acctType": d.get("account_type"),
        "openDate": iso(d.get("opened_on")),
        "holder": {
            "holderName": h.owner.name,
            "certType": CERT_TYPES.get(h.owner.id_type or "", h.owner.id_type),
            "certNo": h.owner.id_number,
        },
        "marketValue": amount(value),
        "frozenValue": amount(frozen),
        "positions": [_position(p) for p in d.get("holdings") or []],
        "freezes": [
            {
                "freezeNo": c.control_id,
                "court": c.court,
                "measure": c.action,
                "frozenValue": amount(c.amount),
                "regTime": iso(c.registered_at),
                "endTime": iso(c.expires_at),
                "queueNo": c.position,
                "state": c.status,
            }
            for c in controls
        ],
    }


class SecuritiesApi(RegistryApi):
    CONTROL_PREFIX = "ZQ"

    def authenticated(self, request: Request) -> bool:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return scheme == "Bearer" and secret_matches(token.strip(), self.credential)

    def error(self, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        code = _RET_CODES.get(status, f"9{status}")
        return JSONResponse({"retCode": code, "retMsg": message}, status, headers)

    def router(self) -> APIRouter:
        router = APIRouter()

        @router.get("/csdc/v3/accounts")
        async def accounts(
            holderName: str | None = None,
            certNo: Annotated[list[str] | None, Query()] = None,
            after: str | None = None,
            size: Annotated[int, Query(ge=1)] = SIZE_MAX,
        ) -> dict[str, Any]:
            ids = [c for c in certNo or [] if c.strip()]
            if not ids and not (holderName or "").strip():
                raise BadRequest("holderName 或 certNo 至少提供一项 (holderName or certNo is required)")
            found = sorted(self.store.search(ids, holderName), key=lambda h: h.ref)
            if after is not None:
                found = [h for h in found if h.ref > after]
            page = found[: min(size, SIZE_MAX)]
            return _ok(
                {
                    "accounts": [_account(h, *self.current_controls(h)) for h in page],
                    "hasMore": len(found) > len(page),
                    "lastAcctNo": page[-1].ref if page else after,
                }
            )

        @router.put("/csdc/v3/judicial-freezes/{requestNo}")
        async def freeze(requestNo: str, body: _Freeze) -> dict[str, Any]:
            return _decision(
                self.execute(
                    Order(
                        order_id=requestNo,
                        action=body.measure.lower(),
                        asset_ref=body.acctNo,
                        court=body.court,
                        case_id=body.caseId,
                        case_number=body.caseNo,
                        amount=parse_amount(body.freezeValue, "freezeValue"),
                        period_days=body.days,
                        approved_by=body.approver,
                    )
                )
            )

        @router.patch("/csdc/v3/judicial-freezes/{freezeNo}")
        async def change(freezeNo: str, body: _Change) -> dict[str, Any]:
            return _decision(
                self.execute(
                    Order(
                        order_id=body.requestNo,
                        action=OPERATIONS[body.operation],
                        asset_ref=body.acctNo,
                        court=body.court,
                        case_id=body.caseId,
                        case_number=body.caseNo,
                        control_id=freezeNo,
                        period_days=body.days,
                    )
                )
            )

        return router
