"""Police (公安) registry: household registration (户籍) and motor vehicles.

``GET /api/v2/persons?sfzh=<id>&sfzh=<id>...&xm=<name>&page=1&rows=20``, header ``X-Police-AppKey``.

Reply ``{"code": 0, "msg": "ok", "data": {"total", "page", "rows", "persons": [{"xm", "zjlx", "sfzh",
"csrq": "YYYYMMDD", "hjdz", "vehicles": [{"hphm", "clsbdh", "clpp", "ccdjrq", "jz",
"cfxx": [{"cfjg", "cflx", "zt", "sx", "djsj", "jzsj"}]}]}]}}``. One person = one recorded owner
(``xm`` + ``sfzh``) with their household address and vehicles; pages run over persons (``rows``
at most 20). ``zjlx`` is the certificate type: A resident id, B organisation code,
M credit code, J business licence. Errors: ``{"code": <status * 100 + n>, "msg": "..."}`` (40001: bad
AppKey).

Search: persons whose recorded ``sfzh`` equals any ``sfzh`` sent, or whose recorded ``xm``
equals ``xm`` after the registries' name folding. ``cfxx`` lists the vehicle's current seizures
from the register (``cfid`` = seizure id, ``zt`` effective|waiting|expired (lapsed, with ``jzsj``),
``sx`` 0 = in effect, n = n-th
waiting).

Seizures (查封), rules in ``registries.controls``:

- ``POST /api/v2/vehicles/{hphm}/seizures`` ``{"qqdh" (request number = idempotency key), "fy"
  (court), "ah" (case number), "ajid" (case id), "cslx": "CF" (查封 seize) | "DJ" (冻结 freeze),
  "qx" (days), "spr" (approved by)}``;
- ``POST /api/v2/seizures/{cfid}/release|renew|expire|deduct|status`` ``{"qqdh", "hphm", "fy", "ah",
  "ajid", "qx", "je"}``; ``status`` (查询) reads the seizure as it is now, not remembered.

Reply ``{"code": 0, "msg": "ok", "data": {"qqdh", "cfid", "jg": SX (生效) | LH (轮候) | BF (部分)
| JJ (拒绝) | XF (续封) | JF (解封) | KH (扣划) | DQ (到期), "sx", "kzje", "kkje", "sxsj",
"jzsj", "yy" (reason), "qmjzsj" (轮候: when the seizure ahead ends), "dwsx": [{"cfid", "qqdh", "ajid",
"cfjg", "kzje", "sxsj", "jzsj"}] (promoted),
"clsj" (decided at)}}``. Unknown plate: 404 ``{"code": 40004}``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from .api import BadRequest, RegistryApi, amount, iso, parse_amount, secret_matches
from .controls import Decision, Order, RegControl
from .records import Holding, Owner

__all__ = ["ACTION_CODES", "ID_TYPES", "OUTCOME_CODES", "PoliceApi"]

ROWS_MAX = 20
# 证件类型: police also register vehicles of organisations (单位车辆)
ID_TYPES = {"resident_id": "A", "org_code": "B", "uscc": "M", "business_reg_no": "J"}
_CODES = {400: 40000, 401: 40001, 404: 40004, 429: 42901, 503: 50301}
ACTION_CODES = {"CF": "seize", "DJ": "freeze"}
OUTCOME_CODES = {
    "effective": "SX",
    "waiting": "LH",
    "partial": "BF",
    "rejected": "JJ",
    "renewed": "XF",
    "released": "JF",
    "deducted": "KH",
    "expired": "DQ",
}
_VERBS = ("release", "renew", "expire", "deduct", "status")


class _Seizure(BaseModel):
    model_config = ConfigDict(extra="ignore")
    qqdh: str = Field(min_length=1, max_length=128)
    fy: str = Field(min_length=1)
    ah: str | None = None
    ajid: str | None = None
    cslx: str = "CF"
    qx: int | None = None
    je: str | None = None
    spr: str | None = None


class _Change(_Seizure):
    hphm: str = Field(min_length=1)


def _control(c: RegControl) -> dict[str, Any]:
    return {
        "cfid": c.control_id,
        "cfjg": c.court,
        "cflx": c.action,
        "je": amount(c.amount),
        "zt": c.status,
        "sx": c.position,
        "djsj": iso(c.registered_at),
        "jzsj": iso(c.expires_at),
    }


def _vehicle(h: Holding, controls: list[RegControl]) -> dict[str, Any]:
    d = h.details
    return {
        "hphm": h.ref,
        "clsbdh": d.get("vin"),
        "clpp": d.get("brand_model"),
        "ccdjrq": iso(d.get("registered_on")),
        "jz": amount(h.value),
        "cfxx": [_control(c) for c in controls],
    }


def _decision(d: Decision) -> dict[str, Any]:
    return {
        "code": 0,
        "msg": "ok",
        "data": {
            "qqdh": d.order_id,
            "cfid": d.control_id,
            "jg": OUTCOME_CODES[d.outcome],
            "sx": d.position,
            "kzje": amount(d.amount_controlled),
            "kkje": amount(d.amount_deducted),
            "sxsj": iso(d.effective_at),
            "jzsj": iso(d.expires_at),
            "yy": d.reason,
            "qmjzsj": iso(d.ahead_expires_at),
            "dwsx": [
                {
                    "cfid": p.control_id,
                    "qqdh": p.order_id,
                    "ajid": p.case_id,
                    "cfjg": p.court,
                    "kzje": amount(p.amount),
                    "sxsj": iso(p.effective_at),
                    "jzsj": iso(p.expires_at),
                }
                for p in d.promoted
            ],
            "clsj": iso(d.decided_at),
        },
    }


class PoliceApi(RegistryApi):
    CONTROL_PREFIX = "GA"

    def authenticated(self, request: Request) -> bool:
        return secret_matches(request.headers.get("X-Police-AppKey"), self.credential)

    def error(self, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        return JSONResponse({"code": _CODES.get(status, status * 100), "msg": message}, status, headers)

    def router(self) -> APIRouter:
        router = APIRouter()

        @router.get("/api/v2/persons")
        async def persons(
            sfzh: Annotated[list[str] | None, Query()] = None,
            xm: str | None = None,
            page: int = 1,
            rows: int = ROWS_MAX,
        ) -> dict[str, Any]:
            if not sfzh and not xm:
                raise BadRequest("sfzh 或 xm 至少提供一项 (give sfzh or xm)")
            if page < 1 or rows < 1:
                raise BadRequest("page and rows start at 1")
            rows = min(rows, ROWS_MAX)
            people = self._persons(sfzh or [], xm)
            start = (page - 1) * rows
            return {
                "code": 0,
                "msg": "ok",
                "data": {
                    "total": len(people),
                    "page": page,
                    "rows": rows,
                    "persons": people[start : start + rows],
                },
            }

        @router.post("/api/v2/vehicles/{hphm}/seizures")
        async def seize(hphm: str, body: _Seizure) -> dict[str, Any]:
            action = ACTION_CODES.get(body.cslx.upper(), body.cslx)
            return _decision(self.execute(self._order(body, action, hphm)))

        @router.post("/api/v2/seizures/{cfid}/{verb}")
        async def change(cfid: str, verb: str, body: _Change) -> dict[str, Any]:
            if verb not in _VERBS:
                raise BadRequest(f"unknown operation {verb!r} (release, renew, expire, deduct)", 404)
            return _decision(self.execute(self._order(body, verb, body.hphm, cfid)))

        return router

    @staticmethod
    def _order(body: _Seizure, action: str, hphm: str, cfid: str | None = None) -> Order:
        return Order(
            order_id=body.qqdh,
            action=action,
            asset_ref=hphm,
            court=body.fy,
            case_id=body.ajid,
            case_number=body.ah,
            amount=parse_amount(body.je, "je"),
            control_id=cfid,
            period_days=body.qx,
            approved_by=body.spr,
        )

    def _persons(self, ids: list[str], name: str | None) -> list[dict[str, Any]]:
        """Group households and vehicles by the owner as recorded (name + number)."""
        people: dict[tuple[str, str | None], dict[str, Any]] = {}

        def entry(o: Owner) -> dict[str, Any]:
            key = (o.name, o.id_number)
            if key not in people:
                people[key] = {
                    "xm": o.name,
                    "zjlx": ID_TYPES.get(o.id_type or "", o.id_type),
                    "sfzh": o.id_number,
                    "csrq": o.birth_date.strftime("%Y%m%d") if o.birth_date else None,
                    "hjdz": None,
                    "vehicles": [],
                }
            return people[key]

        for household in self.store.search_households(ids, name):
            entry(household.owner)["hjdz"] = household.owner.address
        for vehicle in self.store.search(ids, name):
            entry(vehicle.owner)["vehicles"].append(_vehicle(vehicle, self.current_controls(vehicle)[1]))
        return list(people.values())
