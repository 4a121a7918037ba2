"""Land (自然资源/国土) registry: land use rights and existing seizures.

``POST /landreg/query``, form-encoded (``qlrmc`` = right holder's name, ``zjhm`` = certificate
number, repeatable; ``start``, ``count``), header ``X-Api-Token``.

Reply ``{"result": "OK", "total", "records": [{"zddm" (parcel code), "qlrmc", "zjzl", "zjhm",
"zl" (location), "mj" (m²), "yt" (usage), "zzrq" (term ends), "pgjz" (assessed value),
"xzxx": [{"fy", "lx", "djsj", "jssj", "sx", "zt"}]}]}``; ``count`` at most 20. Certificate
types ``zjzl``: 1 resident id, 6 organisation code, 7 business licence, 8 credit code.
Errors: ``{"result": "ERROR", "errCode": "E<status>", "errMsg": "..."}``.

Search: rights whose recorded ``zjhm`` equals any ``zjhm`` sent, or whose holder name equals
``qlrmc`` after NFKC and removing whitespace.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from .api import BadRequest, RegistryApi, amount, iso, secret_matches
from .records import Holding

__all__ = ["ID_TYPES", "LandApi"]

COUNT_MAX = 20
ID_TYPES = {"resident_id": "1", "org_code": "6", "business_reg_no": "7", "uscc": "8"}


def _right(h: Holding) -> dict[str, Any]:
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
                "fy": c.court,
                "lx": c.action,
                "djsj": iso(c.registered_at),
                "jssj": iso(c.expires_at),
                "sx": c.position,
                "zt": c.status,
            }
            for c in h.controls
        ],
    }


def _int(form: dict[str, list[str]], name: str, default: int) -> int:
    try:
        return int(form[name][0]) if name in form else default
    except ValueError:
        raise BadRequest(f"{name} must be an integer") from None


class LandApi(RegistryApi):
    def authenticated(self, request: Request) -> bool:
        return secret_matches(request.headers.get("X-Api-Token"), self.credential)

    def error(self, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        return JSONResponse({"result": "ERROR", "errCode": f"E{status}", "errMsg": message}, status, headers)

    def router(self) -> APIRouter:
        router = APIRouter()

        @router.post("/landreg/query")
        async def query(request: Request) -> dict[str, Any]:
            if (
                request.headers.get("Content-Type", "").split(";")[0].strip()
                != "application/x-www-form-urlencoded"
            ):
                raise BadRequest("form-encoded body required (application/x-www-form-urlencoded)", 415)
            try:
                form = parse_qs((await request.body()).decode(), keep_blank_values=False)
            except UnicodeDecodeError:
                raise BadRequest("form body is not UTF-8") from None
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
                "records": [_right(h) for h in found[start : start + count]],
            }

        return router
