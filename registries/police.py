"""Police (公安) registry: household registration (户籍) and motor vehicles.

``GET /api/v2/persons?sfzh=<id>&sfzh=<id>...&xm=<name>&page=1&rows=20``, header ``X-Police-AppKey``.

Reply ``{"code": 0, "msg": "ok", "data": {"total", "page", "rows", "persons": [{"xm", "zjlx", "sfzh",
"csrq": "YYYYMMDD", "hjdz", "vehicles": [{"hphm", "clsbdh", "clpp", "ccdjrq", "jz",
"cfxx": [{"cfjg", "cflx", "zt", "sx", "djsj", "jzsj"}]}]}]}}``. One person = one recorded owner
(``xm`` + ``sfzh``) with their household address and vehicles; pages run over persons (``rows``
at most 20). ``zjlx`` is the certificate type: A resident id, B organisation code,
M credit code, J business licence. Errors: ``{"code": <status * 100 + n>, "msg": "..."}`` (40001: bad AppKey).

Search: persons whose recorded ``sfzh`` equals any ``sfzh`` sent, or whose recorded ``xm``
equals ``xm`` after NFKC and removing whitespace.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from .api import BadRequest, RegistryApi, amount, iso, secret_matches
from .records import Control, Holding, Owner

__all__ = ["ID_TYPES", "PoliceApi"]

ROWS_MAX = 20
# 证件类型: police also register vehicles of organisations (单位车辆)
ID_TYPES = {"resident_id": "A", "org_code": "B", "uscc": "M", "business_reg_no": "J"}
_CODES = {400: 40000, 401: 40001, 404: 40004, 429: 42901, 503: 50301}


def _control(c: Control) -> dict[str, Any]:
    return {
        "cfjg": c.court,
        "cflx": c.action,
        "zt": c.status,
        "sx": c.position,
        "djsj": iso(c.registered_at),
        "jzsj": iso(c.expires_at),
    }


def _vehicle(h: Holding) -> dict[str, Any]:
    d = h.details
    return {
        "hphm": h.ref,
        "clsbdh": d.get("vin"),
        "clpp": d.get("brand_model"),
        "ccdjrq": iso(d.get("registered_on")),
        "jz": amount(h.value),
        "cfxx": [_control(c) for c in h.controls],
    }


class PoliceApi(RegistryApi):
    def authenticated(self, request: Request) -> bool:
        return secret_matches(request.headers.get("X-Police-AppKey"), self.credential)

    def error(self, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        return JSONResponse({"code": _CODES.get(status, status * 100), "msg": message}, status, headers)

    def router(self) -> APIRouter:
        router = APIRouter()

        @router.get("/api/v2/persons")
        def persons(
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

        return router

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
            entry(vehicle.owner)["vehicles"].append(_vehicle(vehicle))
        return list(people.values())
