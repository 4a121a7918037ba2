"""The matcher's configuration: m/u probabilities per comparison outcome and decision thresholds.

Re-exported by :mod:`streams.linkage` (``from streams.linkage import LinkageConfig, FieldLevel``);
see that module for how the weights and the rules combine.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.models import Evidence

__all__ = ["FieldLevel", "LinkageConfig"]


class FieldLevel(BaseModel):
    """The m and u probabilities of one comparison outcome; its weight is ``log2(m / u)``."""

    model_config = ConfigDict(frozen=True)

    m: float = Field(gt=0, le=1, description="P(outcome | same entity)")
    u: float = Field(gt=0, le=1, description="P(outcome | different entities)")

    @property
    def weight(self) -> float:
        return math.log2(self.m / self.u)


class _EvidenceCache(dict[tuple[str, str, str | None], Evidence]):
    """Evidence values by (field, outcome, detail): few distinct ones exist, and building a model per
    pair would cost a third of the matcher's time. Instances are shared: treat them as read-only."""

    def __init__(self, weights: dict[tuple[str, str], float]) -> None:
        super().__init__()
        self.weights = weights

    def __missing__(self, key: tuple[str, str, str | None]) -> Evidence:
        field, outcome, detail = key
        value = self[key] = Evidence(
            field=field, outcome=outcome, weight=self.weights[field, outcome], detail=detail
        )
        return value


def _levels(**pairs: tuple[float, float]) -> dict[str, FieldLevel]:
    return {k: FieldLevel(m=m, u=u) for k, (m, u) in pairs.items()}


# Defaults: m from how registries corrupt the identity of the right person (most keep the id; a few
# per cent hold a legacy number or old organisation code; about 1 % a typing error); u from chance
# agreement between different people (a random valid id agrees with probability ~1e-9, a valid id
# one edit away from another is nearly impossible because the check character catches it; a common
# name is shared by about 1 person in 1,000 within a region; a birth date by 1 in ~10,000).
_DEFAULT_IDENTIFIER = _levels(
    exact=(0.90, 1e-9),
    legacy_equal=(0.03, 1e-8),
    org_code_equal=(0.03, 1e-8),
    transposition=(0.005, 1e-6),
    substitution=(0.005, 1e-6),
    invalid=(0.005, 0.01),
    missing=(0.03, 0.03),
    other_type=(0.02, 0.02),
    different=(0.001, 0.95),
)
_DEFAULT_NAME = _levels(
    equal=(0.90, 1e-3),
    variant=(0.04, 5e-4),
    org_form=(0.03, 5e-5),
    legal_form=(0.005, 1e-4),
    similar=(0.02, 0.01),
    different=(0.01, 0.99),
    branch=(1e-4, 1e-3),
)
_DEFAULT_BIRTH_DATE = _levels(consistent=(0.97, 1e-4), contradicting=(0.02, 0.9999))
_DEFAULT_REGION = _levels(consistent=(0.9, 0.01), contradicting=(0.1, 0.99))


class LinkageConfig(BaseModel):
    """Weights (as m/u pairs per outcome) and decision thresholds of the matcher.

    Default weights, in bits: identifier exact +29.7, legacy or organisation-code equal +21.5, one
    edit away +12.3, invalid -1, missing or of another kind 0, different -9.9; name equal +9.8,
    variant +6.3, legal-form spelling (有限责任公司 = 有限公司) +9.2, another legal form (股份有限公司)
    +5.6, similar +1, different -6.6; birth date consistent +13.2, contradicting -5.6.

    The rules (:func:`_bounds`) fix most decisions; the thresholds decide the rest:

    - ``match_threshold`` (20): an equal identifier with names differing only in the legal form (a
      company converted to 股份有限公司 keeps its code) is a match when the score reaches it (35.3
      with the defaults).
    - ``possible_threshold`` (8): whether a record without a usable identifier reaches a court at
      all: an equal name does (9.8), and so does a name differing only in how the legal form is
      spelt (9.2: two companies' names may not differ only so), a variant-level name alone does not
      (6.3) unless a birth date supports it.
    - ``name_similar_min`` (0.8): the normalised Indel similarity (``rapidfuzz``'s ratio / 100) from
      which two different names count as similar rather than different.

    Tuned with ``scripts/eval_linkage.py``; override any of them, e.g.
    ``LinkageConfig(match_threshold=24)`` or ``LinkageConfig(name={**defaults, "equal": FieldLevel(...)})``.
    """

    model_config = ConfigDict(frozen=True)

    identifier: dict[str, FieldLevel] = Field(default_factory=lambda: dict(_DEFAULT_IDENTIFIER))
    name: dict[str, FieldLevel] = Field(default_factory=lambda: dict(_DEFAULT_NAME))
    birth_date: dict[str, FieldLevel] = Field(default_factory=lambda: dict(_DEFAULT_BIRTH_DATE))
    region: dict[str, FieldLevel] = Field(default_factory=lambda: dict(_DEFAULT_REGION))
    match_threshold: float = 20.0
    possible_threshold: float = 8.0
    name_similar_min: float = Field(default=0.8, ge=0, le=1)

    @model_validator(mode="after")
    def _complete(self) -> LinkageConfig:
        """An override must keep every outcome (a partial dict would fail at match time instead)."""
        for field, defaults in (
            ("identifier", _DEFAULT_IDENTIFIER),
            ("name", _DEFAULT_NAME),
            ("birth_date", _DEFAULT_BIRTH_DATE),
            ("region", _DEFAULT_REGION),
        ):
            missing = defaults.keys() - getattr(self, field).keys()
            if missing:
                raise ValueError(f"{field}: no m/u for outcome(s) {sorted(missing)}")
        if self.possible_threshold > self.match_threshold:
            raise ValueError("possible_threshold must not exceed match_threshold")
        return self

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> LinkageConfig:
        """A validated copy: pydantic's copy would skip validation and carry over cached weights."""
        return type(self).model_validate({**self.model_dump(), **(update or {})})

    @cached_property
    def weights(self) -> dict[tuple[str, str], float]:
        """``(field, outcome) -> log2(m / u)``, rounded to millibits, computed once per config."""
        return {
            (field, outcome): round(level.weight, 3)
            for field in ("identifier", "name", "birth_date", "region")
            for outcome, level in getattr(self, field).items()
        }

    @cached_property
    def evidence(self) -> _EvidenceCache:
        """``(field, outcome, detail) -> Evidence`` with this config's weight (shared, read-only)."""
        return _EvidenceCache(self.weights)
