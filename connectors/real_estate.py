"""Real estate (不动产登记): property rights, mortgages and existing seizures.

``GET /rest/v1/rights`` with every identifier form as a repeated ``ownerIdNo`` and the name as
``ownerName``; HTTP Basic authentication; ``offset``/``limit`` paging until ``total``. Errors are
RFC 7807 problem details.

Control orders: ``POST /rest/v1/rights/{certificateNo}/restrictions`` (``kind`` SEIZURE / FREEZE)
and ``POST /rest/v1/restrictions/{restrictionId}/actions`` (``action`` RENEW / RELEASE / EXPIRE /
DEDUCT), ``requestId`` = the order id. The registry refuses with a 409 problem
(``type`` ``.../restriction-refused``): that is the outcome ``rejected`` with the problem's
``detail`` as the reason, not an error.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

import httpx

from schemas.models import (
    AgencyRequest,
    ControlCommand,
    ControlOutcome,
    RealEstateAsset,
    RegistryOwner,
)

from .adapter import AgencyAdapter, InquiryAnswer
from .control_wire import (
    REGISTERING,
    ReplyFields,
    check_echo,
    control_id_of,
    outcome,
    outcome_from_reply,
    unparseable,
)
from .record_fields import ControlFields, existing_controls

__all__ = ["RealEstateAdapter"]

LIMIT = 25
USERNAME = "enforcement-hub"
_ID_TYPES: dict[str | None, str] = {
    "ID_CARD": "resident_id",
    "USCC": "uscc",
    "ORG_CODE": "org_code",
    "BIZ_LICENCE": "business_reg_no",
}
_RESULTS = {
    "IN_EFFECT": "effective",
    "QUEUED": "waiting",
    "PARTIAL": "partial",
    "REJECTED": "rejected",
    "RENEWED": "renewed",
    "RELEASED": "released",
    "DEDUCTED": "deducted",
    "EXPIRED": "expired",
}
_REFUSED = "https://bdc.example.gov.cn/problems/restriction-refused"


_CONTROLS = ControlFields(
    control_id="restrictionId",
    court="court",
    action="kind",
    status="status",
    registered_at="registeredAt",
    expires_at="expiresAt",
    position="queuePosition",
)


def _right(item: dict[str, Any]) -> RealEstateAsset:
    o = item["owner"]
    owner = RegistryOwner(
        name=o["name"], id_type=_ID_TYPES.get(o.get("idType"), o.get("idType")), id_number=o.get("idNo")
    )
    controls = existing_controls(item.get("restrictions"), _CONTROLS)
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


def _problem_type(response: httpx.Response) -> str | None:
    try:
        body = response.json()
        return str(body["type"]) if isinstance(body, dict) and "type" in body else None
    except ValueError:
        return None


# where this registry's control reply keeps each part of the outcome
_REPLY = ReplyFields(
    outcome=lambda r: _RESULTS[r["result"]],
    control_id="restrictionId",
    order_id="requestId",
    case_id="caseId",
    court="court",
    position="queuePosition",
    amount_controlled="amountControlled",
    amount_deducted="amountDeducted",
    effective_at="effectiveAt",
    expires_at="expiresAt",
    reason="note",
    promoted="promoted",
    decided_at="decidedAt",
    ahead_expires_at="aheadExpiresAt",
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
            with self.reading_reply():
                body = response.json()
                answer.records.extend(_right(item) for item in body["items"])
                offset += len(body["items"])
                done = not body["items"] or offset >= int(body["total"])
            if done:
                return answer

    async def execute_control(self, client: httpx.AsyncClient, command: ControlCommand) -> ControlOutcome:
        body: dict[str, Any] = {
            "requestId": command.order_id,
            "court": command.court_id,
            "caseNumber": command.case_number,
            "caseId": command.case_id,
            "amount": f"{command.amount:.2f}" if command.amount is not None else None,
            "periodDays": command.period_days,
            "approvedBy": command.approved_by,
        }
        if command.action in REGISTERING:
            body["kind"] = "SEIZURE" if command.action == "seize" else "FREEZE"
            path = f"/rest/v1/rights/{quote(command.asset_ref, safe='')}/restrictions"
        else:
            body["certificateNo"] = command.asset_ref
            body["action"] = command.action.upper()
            path = f"/rest/v1/restrictions/{quote(control_id_of(self, command), safe='')}/actions"
        response = await client.post(self.url(path), json=body, headers=self.auth_headers())
        refused = response.status_code == 409 and _problem_type(response) == _REFUSED
        if not refused:
            self.classify_response(response)
        try:
            r = response.json()
            check_echo(command, r["requestId"])
            if refused:
                return outcome(
                    self,
                    command,
                    outcome="rejected",
                    control_id=r.get("restrictionId"),
                    reason=r.get("detail"),
                    decided_at=r["decidedAt"],
                )
            return outcome_from_reply(self, command, r, _REPLY)
        except (ValueError, KeyError, TypeError) as e:
            raise unparseable(self, e) from e

    def error_message(self, response: httpx.Response) -> str:
        try:
            body = response.json()
            return str(body.get("detail") or body["title"])
        except (ValueError, KeyError, TypeError, AttributeError):
            return super().error_message(response)
