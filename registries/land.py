"""Land (自然资源/国土) registry: land use rights and existing seizures.

``POST /landreg/query``, form-encoded (``qlrmc`` = right holder's name, ``zjhm`` = certificate
number, repeatable; ``start``, ``count``), header ``X-Api-Token``.

Reply ``{"result": "OK", "total", "records": [{"zddm" (parcel code), "qlrmc", "zjzl", "zjhm",
"zl" (location), "mj" (m²), "yt" (usage), "zzrq" (term ends), "pgjz" (assessed value),
"xzxx": [{"fy", "lx", "djsj", "jssj", "sx", "zt"}]}]}``; ``count`` at most 20. Certificate
types ``zjzl``: 1 resident id, 6 organisation code, 7 business licence, 8 credit code.
Errors: ``{"result": "ERROR", "errCode": "E<status>", "errMsg": "..."}``.

Search: rights whose recorded ``zjhm`` equals any ``zjhm`` sent, or whose holder name equals
``qlrmc`` after the registries' name folding. ``xzxx`` lists the parcel's current seizures from the
register (``xzid``, ``zt`` effective|waiting|expired (lapsed, with ``jssj``), ``sx`` 0 = in effect, n =
n-th waiting).

Seizures (查封), form-encoded like the query, rules in ``registries.controls``:

- ``POST /landreg/seizure``: ``ywh`` (业务号, the idempotency key), ``zddm``, ``fy`` (court), ``ah``
  (case number), ``ajid`` (case id), ``lx`` (CF 查封 | DJ 冻结), ``je``, ``qx`` (days), ``spr``;
- ``POST /landreg/seizure/change``: ``ywh``, ``xzid``, ``zddm``, ``czlx`` (XF 续封 renew | JF 解封
  release | DQ 到期 expire | KH 扣划 deduct | CX 查询 status: the seizure as it is now, not
  remembered), ``fy``, ``ah``, ``ajid``, ``je``, ``qx``.

Reply ``{"result": "OK", "ywh", "xzid", "clzt": SX (生效) | LH (轮候) | BF (部分) | JJ (拒绝) | XF
| JF | KH | DQ, "sx", "kzje", "khje", "sxsj", "jssj", "sm" (reason), "qmjssj" (轮候: when the seizure ahead
ends), "dw": [{"xzid", "ywh",
"ajid", "fy", "kzje", "sxsj", "jssj"}] (promoted), "clsj"}``. Unknown parcel: 404 ``E404``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from .api import BadRequest, RegistryApi, amount, iso, parse_amount, parse_int, secret_matches
from .controls import Decision, Order, RegControl
from .records import Holding

__all__ = ["ACTION_CODES", "CHANGE_CODES", "ID_TYPES", "OUTCOME_CODES", "LandApi"]

COUNT_MAX = 20
ID_TYPES = {"resident_id": "1", "org_code": "6", "business_reg_no": "7", "uscc": "8"}


ACTION_CODES = {"CF": "seize", "DJ": "freeze"}
CHANGE_CODES = {"XF": "renew", "JF": "release", "DQ": "expire", "KH": "deduct", "CX": "status"}
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


def _decision(d: Decision) -> dict[str, Any]:
    return {
        "result": "OK",
        "ywh": d.order_id,
        "xzid": d.control_id,
        "clzt": OUTCOME_CODES[d.outcome],
        "sx": d.position,
        "kzje": amount(d.amount_controlled),
        "khje": amount(d.amount_deducted),
        "sxsj": iso(d.effective_at),
        "jssj": iso(d.expires_at),
        "sm": d.reason,
        "qmjssj": iso(d.ahead_expires_at),
        "dw": [
            {
                "xzid": p.control_id,
                "ywh": p.order_id,
                "ajid": p.case_id,
                "fy": p.court,
                "kzje": amount(p.amount),
                "sxsj": iso(p.effective_at),
                "jssj": iso(p.expires_at),
            }
            for p in d.promoted
        ],
        "clsj": iso(d.decided_at),
    }


def _one(form: dict[str, list[str]], name: str, required: bool = False) -> str | None:
    value = form.get(name, [None])[0]
    if required and not value:
        raise BadRequest(f"{name} 必填 ({name} is required)")
    return value


def _order(form: dict[str, list[str]], action: str, control_id: str | None = None) -> Order:
    return Order(
        order_id=_one(form, "ywh", True) or "",
        action=action,
        asset_ref=_one(form, "zddm", True) or "",
        court=_one(form, "fy", True) or "",
        case_id=_one(form, "ajid"),
        case_number=_one(form, "ah"),
        amount=parse_amount(_one(form, "je"), "je"),
        control_id=control_id,
        period_days=parse_int(_one(form, "qx"), "qx"),
        approved_by=_one(form, "spr"),
    )


async def _form(request: Request) -> dict[str, list[str]]:
    if request.headers.get("Content-Type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        raise BadRequest("form-encoded body required (application/x-www-form-urlencoded)", 415)
    try:
        return parse_qs((await request.body()).decode(), keep_blank_values=False)
    except UnicodeDecodeError:
        raise BadRequest("form body is not UTF-8") from None


def _right(h: Holding, controls: list[RegControl]) -> dict[str, Any]:
    d = h.details
    return {
        "zddm": h.ref,
        "qlrmc": h.owner.name,
        "zjzl": ID_TYPES.get(h.owner.id_type or "", h.owner.id_type),
        "zjhm": h.owner.id_number,
        "zl": d.get("location"),
        "mj": amount(d.get("area_m2")),
        "yt": d.get("usage"),
        "zzrq": iso(d.get("term_ends")),
        "pgjz": amount(h.value),
        "xzxx": [
            {
                "xzid": c.control_id,
                "fy": c.court,
                "lx": c.action,
                "djsj": iso(c.registered_at),
                "jssj": iso(c.expires_at),
                "sx": c.position,
                "zt": c.status,
            }
            for c in controls
        ],
    }


def _int(form: dict[str, list[str]], name: str, default: int) -> int:
    try:
        return int(form[name][0]) if name in form else default
    except ValueError:
        raise BadRequest(f"{name} must be an integer") from None


class LandApi(RegistryApi):
    CONTROL_PREFIX = "TD"

    def authenticated(self, request: Request) -> bool:
        return secret_matches(request.headers.get("X-Api-Token"), self.credential)

    def error(self, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        return JSONResponse({"result": "ERROR", "errCode": f"E{status}", "errMsg": message}, status, headers)

    def router(self) -> APIRouter:
        router = APIRouter()

        @router.post("/landreg/query")
        async def query(request: Request) -> dict[str, Any]:
            form = await _form(request)
            ids, names = form.get("zjhm", []), form.get("qlrmc", [])
            name = names[0] if names else None
            if not ids and not name:
                raise BadRequest("qlrmc 或 zjhm 至少提供一项")
            start, count = _int(form, "start", 0), min(_int(form, "count", COUNT_MAX), COUNT_MAX)
            if start < 0 or count < 1:
                raise BadRequest("start must be >= 0 and count >= 1")
            found = self.store.search(ids, name)
            return {
                "result": "OK",
                "total": len(found),
                "records": [_right(h, self.current_controls(h)[1]) for h in found[start : start + count]],
            }

        @router.post("/landreg/seizure")
        async def seize(request: Request) -> dict[str, Any]:
            form = await _form(request)
            code = (_one(form, "lx") or "CF").upper()
            return _decision(self.execute(_order(form, ACTION_CODES.get(code, code))))

        @router.post("/landreg/seizure/change")
        async def change(request: Request) -> dict[str, Any]:
            form = await _form(request)
            code = (_one(form, "czlx", True) or "").upper()
            if code not in CHANGE_CODES:
                raise BadRequest("czlx 须为 XF、JF、DQ、KH 或 CX (czlx must be XF, JF, DQ, KH or CX)")
            return _decision(self.execute(_order(form, CHANGE_CODES[code], _one(form, "xzid", True))))

        return router
