"""Commerce (市场监管): shareholders' equity.

``POST /open/v1/equity/query`` with ``{"party": {"name", "certs": [{"certType", "certNo"}]},
"pageNo", "pageSize"}``; header ``Authorization: AppCode <key>``; pages until ``total``.
Capital comes in 万元 and is converted to yuan here. Errors: ``{"success": false, "errorCode",
"errorMessage"}``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from hub.errors import PermanentRegistryError
from hub.masking import mask_text
from schemas.models import AgencyRequest, EquityAsset, ExistingControl, RegistryOwner

from .adapter import AgencyAdapter, InquiryAnswer

__all__ = ["CommerceAdapter"]

PAGE_SIZE = 20
_CERT_TYPES = {"resident_id": "SFZ", "uscc": "TYSHXYDM", "org_code": "ZZJGDM", "business_reg_no": "ZCH"}
_ID_TYPES: dict[str | None, str] = {v: k for k, v in _CERT_TYPES.items()}


def _yuan(wan: str | None) -> Decimal | None:
    return Decimal(wan).scaleb(4) if wan is not None else None


def _stake(s: dict[str, Any]) -> EquityAsset:
    owner = RegistryOwner(
        name=s["investorName"],
        id_type=_ID_TYPES.get(s.get("investorCertType"), s.get("investorCertType")),
        id_number=s.get("investorCertNo"),
    )
    controls = [
        ExistingControl(
            court=f["court"],
            action=f["type"],
            amount=_yuan(f.get("amountWan")),
            registered_at=f.get("regDate"),
            expires_at=f.get("expireDate"),
            position=f.get("seq"),
            status=f["state"],
        )
        for f in s.get("frozen", [])
    ]
    return EquityAsset(
        agency="commerce",
        ref=s["uniscId"],
        owner=owner,
        value=s["assessedValue"],
        controls=controls,
        company_name=s.get("entName"),
        company_id=s["uniscId"],
        share_ratio=s.get("conRatio"),
        subscribed_capital=_yuan(s.get("subConAmWan")),
    )


class CommerceAdapter(AgencyAdapter):
    agency = "commerce"

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"AppCode {self._credential}"}

    async def inquire(self, client: httpx.AsyncClient, request: AgencyRequest) -> InquiryAnswer:
        certs = [
            {"certType": _CERT_TYPES.get(f.id_type, f.id_type), "certNo": f.id_number}
            for f in request.identifiers
        ]
        answer = InquiryAnswer()
        page = 1
        while True:
            body = {
                "party": {"name": request.subject.name, "certs": certs},
                "pageNo": page,
                "pageSize": PAGE_SIZE,
            }
            response = await client.post(
                self.url("/open/v1/equity/query"), json=body, headers=self.auth_headers()
            )
            self.classify_response(response)
            try:
                result = response.json()["result"]
                answer.records.extend(_stake(s) for s in result["list"])
                done = not result["list"] or page * int(result["pageSize"]) >= int(result["total"])
            except (ValueError, KeyError, TypeError) as e:
                raise PermanentRegistryError(
                    self.agency, f"unparseable reply: {mask_text(str(e))[:300]}"
                ) from e
            if done:
                return answer
            page += 1

    def error_message(self, response: httpx.Response) -> str:
        try:
            body = response.json()
            return f"{body['errorCode']}: {body['errorMessage']}"
        except (ValueError, KeyError, TypeError):
            return super().error_message(response)
