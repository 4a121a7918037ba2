"""The body of ``POST /v1/inquiry-batches`` (多案集中查询): up to 1,000 inquiries given at once."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field, field_validator

from .models import DebtorRef, InquiryCreate, LegalBasis, OfficerId, Purpose, _Strict

__all__ = ["MAX_BATCH_ITEMS", "BatchItem", "InquiryBatchCreate"]

MAX_BATCH_ITEMS = 1000


class BatchItem(_Strict):
    """One inquiry of a batch: a case of the court, a debtor of that case, optionally the agencies
    (as in ``POST /v1/inquiries``: omitted means all)."""

    case_id: str = Field(min_length=1, max_length=64)
    debtor: DebtorRef
    agencies: list[str] | None = Field(
        default=None,
        description="police, commerce, real_estate, land, bank (every configured bank) or bank:<code>; "
        "omitted means all",
    )

    @field_validator("agencies")
    @classmethod
    def _names(cls, v: list[str] | None) -> list[str] | None:
        return _agencies(v)


class InquiryBatchCreate(_Strict):
    """``items`` (1 to 1,000) with who asks and why given once for all: each item becomes an
    ordinary inquiry carrying this ``officer``, ``purpose`` and ``legal_basis``."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "case_id": "case_3f2a9c0d1e4b5a6c7d8e",
                            "debtor": {"id_type": "resident_id", "id_number": "420106197503130491"},
                        }
                    ],
                    "officer": "officer-1",
                    "purpose": "enforcement of the judgment of case (2026)鄂0111执1234号",
                    "legal_basis": "(2026)鄂0111执1234号 执行裁定书",
                }
            ]
        }
    )

    items: list[BatchItem] = Field(min_length=1, max_length=MAX_BATCH_ITEMS)
    officer: OfficerId
    purpose: Purpose
    legal_basis: LegalBasis

    def inquiry(self, i: int) -> InquiryCreate:
        """Item ``i`` as the single-inquiry body it stands for."""
        item = self.items[i]
        return InquiryCreate.model_validate(
            {
                **item.model_dump(mode="json", exclude_none=True),
                "officer": self.officer,
                "purpose": self.purpose,
                "legal_basis": self.legal_basis,
            }
        )


def _agencies(v: Any) -> Any:
    # the single inquiry's own rule, so that an item is refused exactly as the inquiry would be
    rule: Any = InquiryCreate.__pydantic_decorators__.field_validators["_names"].func
    return rule.__func__(InquiryCreate, v)
