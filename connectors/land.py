"""Land (自然资源/国土): land use rights and existing seizures.

``POST /landreg/query``, form-encoded: ``qlrmc`` (name), every identifier form as a repeated
``zjhm``, ``start``/``count`` paging until ``total``; header ``X-Api-Token``. Errors:
``{"result": "ERROR", "errCode", "errMsg"}`` (also possible with HTTP 200, which is refused here).
"""

from __future__ import annotations

from typing import Any

import httpx

from hub.errors import PermanentRegistryError
from hub.masking import mask_text
from schemas.models import AgencyRequest, ExistingControl, LandUseRightAsset, RegistryOwner

from .adapter import AgencyAdapter, InquiryAnswer

__all__ = ["LandAdapter"]

COUNT = 20
_ID_TYPES: dict[str | None, str] = {"1": "resident_id", "6": "org_code", "7": "business_reg_no", "8": "uscc"}


def _right(r: dict[str, Any]) -> LandUseRightAsset:
    owner = RegistryOwner(
        name=r["qlrmc"], id_type=_ID_TYPES.get(r.get("zjzl"), r.get("zjzl")), id_number=r.get("zjhm")
    )
    controls = [
        ExistingControl(
            court=x["fy"],
            action=x["lx"],
            registered_at=x.get("djsj"),
            expires_at=x.get("jssj"),
            position=x.get("sx"),
            status=x["zt"],
        )
        for x in r.get("xzxx", [])
    ]
    return LandUseRightAsset(
        agency="land",
        ref=r["zddm"],
        owner=owner,
        value=r["pgjz"],
        controls=controls,
        location=r.get("zl"),
        area_m2=r.get("mj"),
        usage=r.get("yt"),
        term_ends=r.get("zzrq"),
    )


class LandAdapter(AgencyAdapter):
    agency = "land"

    def auth_headers(self) -> dict[str, str]:
        return {"X-Api-Token": self._credential}

    async def inquire(self, client: httpx.AsyncClient, request: AgencyRequest) -> InquiryAnswer:
        ids = list(dict.fromkeys(f.id_number for f in request.identifiers))
        answer = InquiryAnswer()
        start = 0
        while True:
            form = {"qlrmc": request.subject.name, "zjhm": ids, "start": start, "count": COUNT}
            response = await client.post(self.url("/landreg/query"), data=form, headers=self.auth_headers())
            self.classify_response(response)
            try:
                body = response.json()
                if body["result"] != "OK":
                    raise ValueError(f"{body.get('errCode')}: {body.get('errMsg')}")
                answer.records.extend(_right(r) for r in body["records"])
                start += len(body["records"])
                done = not body["records"] or start >= int(body["total"])
            except (ValueError, KeyError, TypeError) as e:
                raise PermanentRegistryError(
                    self.agency, f"unparseable reply: {mask_text(str(e))[:300]}"
                ) from e
            if done:
                return answer

    def error_message(self, response: httpx.Response) -> str:
        try:
            body = response.json()
            return f"{body['errCode']}: {body['errMsg']}"
        except (ValueError, KeyError, TypeError):
            return super().error_message(response)
