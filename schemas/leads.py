"""API bodies of leads (财产线索) and payouts from the case's fund ledger.

``POST /v1/cases/{case_id}/leads`` takes :class:`LeadCreate`: what the applicant reported (the
agency holding the asset, a description, optionally the registry's reference of the asset, urgent or
not) and, as every inquiry states them, who asks and why (the hub runs a targeted inquiry at once).

``POST /v1/cases/{case_id}/payouts`` takes :class:`PayoutCreate`: an amount of deducted money paid
out of the case's fund ledger, to whom, approved by which judge of the court.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import ConfigDict, Field, field_validator

from .agencies import is_agency_name
from .models import LegalBasis, Name, OfficerId, Purpose, Visible, _Strict
from .money import MoneyInput
from .termination import Reason

__all__ = ["LeadCreate", "PayoutCreate"]


class LeadCreate(_Strict):
    """``agency``: one agency of the hub (``bank:<code>``, ``police``, ``commerce``, ``real_estate``,
    ``land``, ``securities``); ``description``: free text, at most 2,000 characters; ``asset_ref``:
    the registry's own reference of the asset (an account number, a plate, a certificate number), if
    the applicant knows it; ``urgent``: the lead must be checked within ``HUB_LEAD_URGENT_DAYS``
    instead of ``HUB_LEAD_DAYS``; ``officer``, ``purpose``, ``legal_basis``: as an inquiry's."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "agency": "land",
                    "description": "the debtor owns a plot in the north district",
                    "urgent": False,
                    "officer": "officer-1",
                    "purpose": "enforcement of the judgment of case (2026)鄂0111执1234号",
                    "legal_basis": "(2026)鄂0111执1234号 执行裁定书",
                }
            ]
        }
    )

    agency: str = Field(min_length=1, max_length=40, description="the agency the applicant names")
    description: Reason = Field(description="what the applicant reported")
    asset_ref: Visible | None = Field(
        default=None, min_length=1, max_length=300, description="the registry's reference of the asset"
    )
    urgent: bool = Field(default=False, strict=True, description="to be checked within HUB_LEAD_URGENT_DAYS")
    officer: OfficerId
    purpose: Purpose
    legal_basis: LegalBasis

    @field_validator("agency")
    @classmethod
    def _agency(cls, v: str) -> str:
        if not is_agency_name(v):
            raise ValueError(f"unknown agency {v!r}: name one agency, such as bank:icbc or real_estate")
        return v


class PayoutCreate(_Strict):
    """``amount``: yuan, a plain decimal string (``schemas.money``), more than zero and at most what
    the case holds (deducted less already paid: else 422 on ``amount``); ``payee``: to whom (the
    applicant, as the court names them); ``approved_by``: a judge of the court (``HUB_COURT_JUDGES``)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"amount": "5000.00", "payee": "某某银行股份有限公司", "approved_by": "judge-1"}]
        }
    )

    amount: MoneyInput
    payee: Name = Field(description="to whom the money is paid")
    approved_by: Visible = Field(min_length=1, max_length=100, description="a judge of the court")

    @field_validator("amount")
    @classmethod
    def _positive(cls, v: Decimal) -> Decimal:
        if v <= 0:
            raise ValueError("must be more than zero")
        return v
