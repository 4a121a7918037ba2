"""Real estate (不动产登记): property rights, mortgages and existing seizures.

``GET /rest/v1/rights`` with every identifier form as a repeated ``ownerIdNo`` and the name as
``ownerName``; HTTP Basic authentication; ``offset``/``limit`` paging until ``total``. Errors are
RFC 7807 problem details.
"""

from __future__ import annotations

import base64
from typing import Any

import httpx

from hub.errors import PermanentRegistryError
from hub.masking import mask_text
from schemas.models import AgencyRequest, ExistingControl, RealEstateAsset, RegistryOwner

from .adapter import AgencyAdapter, InquiryAnswer

__all__ = ["RealEstateAdapter"]

LIMIT = 25
USERNAME = "enforcement-hub"
_ID_TYPES: dict[str | None, str] = {
    "ID_CARD": "resident_id",
    "USCC": "uscc",
    "ORG_CODE": "org_code",
    "BIZ_LICENCE": "business_reg_no",
}


def _right(item: dict[str, Any]) -> RealEstateAsset:
    o = item["owner"]
    owner = RegistryOwner(
        name=o["name"], id_type=_ID_TYPES.get(o.get("idType"), o.get("idType")), id_number=o.get("idNo")
    )
    controls = [
        ExistingControl(
            court=r["court"],
            action=r["kind"],
            registered_at=r.get("registeredAt"),
            expires_at=r.get("expiresAt"),
            position=r.get("queuePosition"),
            status=r["status"],
        )
        for r in item.get("restrictions", [])
    ]
    return RealEstateAsset(
        agency="real_estate",
        ref=item["certificateNo"],
        owner=owner,
        value=item["assessedValue"],
        controls=controls,
        address=item.get("location"),
        area_m2=item.get("areaSqm"),
        usage=item.get("usage"),
        mortgages=item.get("mortgages", []),
    )


class RealEstateAdapter(AgencyAdapter):
    agency = "real_estate"

    def auth_headers(self) -> dict[str, str]:
        token = base64.b64encode(f"{USERNAME}:{self._credential}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    async def inquire(self, client: httpx.AsyncClient, request: AgencyRequest) -> InquiryAnswer:
        query = [("ownerIdNo", n) for n in dict.fromkeys(f.id_number for f in request.identifiers)]
        query.append(("ownerName", request.subject.name))
        answer = InquiryAnswer()
        offset = 0
        while True:
            response = await client.get(
                self.url("/rest/v1/rights"),
                params=[*query, ("offset", offset), ("limit", LIMIT)],
                headers=self.auth_headers(),
            )
            self.classify_response(response)
            try:
                body = response.json()
                answer.records.extend(_right(item) for item in body["items"])
                offset += len(body["items"])
                done = not body["items"] or offset >= int(body["total"])
            except (ValueError, KeyError, TypeError) as e:
                raise PermanentRegistryError(
                    self.agency, f"unparseable reply: {mask_text(str(e))[:300]}"
                ) from e
            if done:
                return answer

    def error_message(self, response: httpx.Response) -> str:
        try:
            body = response.json()
            return str(body.get("detail") or body["title"])
        except (ValueError, KeyError, TypeError, AttributeError):
            return super().error_message(response)
