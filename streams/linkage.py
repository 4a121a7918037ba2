"""Identity linkage: is this registry record's owner the court's judgment debtor?

A Fellegi–Sunter style matcher. Each field comparison yields an *outcome* (identifier exact,
name at the variant level, birth date contradicting, ...). Every outcome has an m probability (how
often it is seen when record and debtor are the same entity) and a u probability (how often for
different entities); its weight is ``log2(m / u)`` and the score is the sum of the weights. The m/u
values and the two thresholds live in :class:`LinkageConfig`, not in the code, so they can be
re-estimated from labelled pairs (``scripts/eval_linkage.py``) and overridden per deployment.

The score alone is not trusted where a wrong answer freezes an innocent person's accounts (a
same-name worker's accounts were frozen for months on name and household registration alone), so
hard rules bound it (:func:`_bounds`):

- identifier equal (exactly, after legacy 15 -> 18 conversion, or as the organisation code inside
  the debtor's credit code) and name equal at any level => ``match``;
- identifier equal and names that differ only in the legal form (a company converted from 有限公司
  to 股份有限公司 keeps its code) => the score decides;
- identifier equal under another name (…控股有限公司 for …有限公司, a sibling's name for a person)
  => ``possible``, never more nor less: a judge decides (a clerk may have copied a relative's or a
  group company's number, and about 1 in 11 double typing errors still passes a check character);
- a *different valid* identifier of the same kind => ``non_match`` whatever the name (a homonym is
  another person); an identifier of another kind (a 15-digit business registration number against
  a credit code) cannot be compared and counts as missing;
- a placeholder identifier (all zeros, all ones: one character repeated) counts as missing;
- a debtor registered with a ``check_override`` (an issued code failing its check character) links
  by exact equality of that code only: no organisation-code form, no one-edit nearness;
- a branch (分公司) against its parent, or the reverse => ``non_match`` (its own entity: linked in the
  evidence, never merged);
- identifier one adjacent transposition or one substitution away (and invalid as recorded), or
  missing, or invalid => ``possible`` at most, and only with an equal/variant name and no
  contradicting birth date: a court must confirm before anything is frozen.

Birth date and region code taken from the record's own identifier are used as evidence only when
that identifier is garbled beyond one edit; otherwise they are part of the identifier comparison
already, and counting them again would double the evidence.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from rapidfuzz.distance import Indel

from schemas.identifiers import (
    IdentifierError,
    IdType,
    canonical_business_reg_no,
    canonical_org_code,
    canonical_resident_id,
    canonical_uscc,
    clean_identifier,
    is_placeholder,
)
from schemas.models import Linkage, Party, RegistryOwner
from schemas.names import branch_parent, is_branch, name_variant_key, normalize_name, org_form_key

from .linkage_config import FieldLevel, LinkageConfig, _EvidenceCache

__all__ = ["FieldLevel", "LinkageConfig", "link", "link_many"]

Decision = Literal["match", "possible", "non_match"]
_RANK: dict[Decision, int] = {"non_match": 0, "possible": 1, "match": 2}
_DECISIONS: tuple[Decision, ...] = ("non_match", "possible", "match")

_ID_EQUIVALENT = frozenset({"exact", "legacy_equal", "org_code_equal"})
_NAME_SAME = frozenset({"equal", "variant", "org_form"})
# which identifiers can be compared at all: a person's, an organisation's code (credit code or the
# organisation code inside it), an old business registration number
_FAMILY: dict[str, str] = {
    IdType.resident_id: "person",
    IdType.uscc: "org",
    IdType.org_code: "org",
    IdType.business_reg_no: "business_reg",
}
_LEGAL_FORMS = ("股份有限公司", "有限公司")  # after org_form_key (有限责任公司 is 有限公司 there)


_DEFAULT_CONFIG = LinkageConfig()


# ---------------------------------------------------------------- the debtor, prepared once


@dataclass(frozen=True, slots=True)
class _Subject:
    is_person: bool
    family: str  # which recorded identifiers can be compared with the debtor's (see _FAMILY)
    exact_only: bool  # a code registered with a check override: exact equality only
    forms: dict[str, str]  # identifier forms a registry may hold -> outcome when found
    org_code: str | None  # for an organisation-code debtor: find it inside a record's credit code
    region: str | None  # a person's: an organisation's identifier region is its registrar's
    birth: dt.date | None
    birth_digits: str | None  # YYYYMMDD, to compare with a garbled identifier's digits
    name: str
    variant: str
    org_form: str
    branch: bool
    parent: str | None


@lru_cache(maxsize=65536)
def _prepare(id_type: str, id_number: str, name: str, exact_only: bool = False) -> _Subject:
    """Everything about the debtor that every comparison needs, computed once per debtor."""
    forms = {id_number: "exact"}
    variant = name_variant_key(name, person=id_type == IdType.resident_id)
    family = _FAMILY[IdType(id_type)]
    if id_type == IdType.resident_id:
        if id_number[6:8] == "19" and not exact_only:
            forms[id_number[:6] + id_number[8:17]] = "legacy_equal"
        born = id_number[6:14]
        return _Subject(
            is_person=True,
            family=family,
            exact_only=exact_only,
            forms=forms,
            org_code=None,
            region=id_number[:6],
            birth=dt.date(int(born[:4]), int(born[4:6]), int(born[6:])),
            birth_digits=born,
            name=normalize_name(name),
            variant=variant,
            org_form=variant,  # legal forms and branches are organisations' matters
            branch=False,
            parent=None,
        )
    if id_type == IdType.uscc and not exact_only:
        forms[id_number[8:17]] = "org_code_equal"
    return _Subject(
        is_person=False,
        family=family,
        exact_only=exact_only,
        forms=forms,
        org_code=id_number if id_type == IdType.org_code and not exact_only else None,
        region=None,
        birth=None,
        birth_digits=None,
        name=normalize_name(name),
        variant=variant,
        org_form=org_form_key(name),
        branch=is_branch(name),
        parent=branch_parent(name),
    )


# ---------------------------------------------------------------- field comparisons


def _clean_id(raw: str) -> str:
    """The record's identifier without the spelling noise registries add (full-width forms, case,
    spaces, hyphens): :func:`schemas.identifiers.clean_identifier`."""
    return clean_identifier(raw)


_CHECKS_BY_TYPE: dict[str, Callable[[str], str]] = {
    IdType.resident_id: canonical_resident_id,
    IdType.uscc: canonical_uscc,
    IdType.org_code: canonical_org_code,
    IdType.business_reg_no: canonical_business_reg_no,
}
_CHECKS_BY_LENGTH: dict[int, tuple[Callable[[str], str], ...]] = {
    18: (canonical_resident_id, canonical_uscc),
    15: (canonical_resident_id, canonical_business_reg_no),
    9: (canonical_org_code,),
}


@lru_cache(maxsize=65536)
def _is_valid(raw: str, id_type: str | None) -> bool:
    """Whether the record's (cleaned) string is a valid identifier of the type it was recorded as.

    The recorded type counts: an all-digit slip in a resident id is a valid credit code about once
    in 31 (the alphabets overlap), which must not make it "another valid identifier". Without a
    known recorded type, any type its length allows.
    """
    check = _CHECKS_BY_TYPE.get(id_type) if id_type else None
    for candidate in (check,) if check else _CHECKS_BY_LENGTH.get(len(raw), ()):
        try:
            candidate(raw)
        except IdentifierError:
            continue
        return True
    return False


def _one_edit(a: str, b: str) -> str | None:
    """``substitution`` or ``transposition`` if equal-length ``a`` and ``b`` are one such edit apart."""
    diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    if len(diffs) == 1:
        return "substitution"
    if (
        len(diffs) == 2
        and diffs[1] == diffs[0] + 1
        and a[diffs[0]] == b[diffs[1]]
        and a[diffs[1]] == b[diffs[0]]
    ):
        return "transposition"
    return None


def _other_kind(family: str, id_type: str | None) -> bool:
    """Whether the record's identifier is of a kind the debtor's cannot be compared with: an old
    business registration number against a credit code or a resident id, or the reverse (the same
    entity holds both). A person's id against a company's code is comparable: they differ."""
    recorded = _FAMILY.get(id_type or "")
    return recorded is not None and recorded != family and "business_reg" in (recorded, family)


def _compare_identifier(s: _Subject, raw: str | None, id_type: str | None) -> tuple[str, str | None]:
    """(outcome, detail) of the record's identifier against the debtor's."""
    if not raw:
        return "missing", "the record has no identifier"
    r = raw.upper() if raw.isalnum() and raw.isascii() else _clean_id(raw)
    outcome = s.forms.get(r)
    if outcome is not None:
        return outcome, None
    if not r or is_placeholder(r):  # never one of the debtor's forms: checked after them
        return "missing", "the record's identifier is empty or a placeholder (one character repeated)"
    if _other_kind(s.family, id_type):
        return "other_type", "the record holds another kind of identifier: nothing to compare"
    if s.exact_only:  # a code failing its check: nothing but equality can be trusted
        if _is_valid(r, id_type):
            return "different", "the record holds another valid identifier"
        return "invalid", "the record's identifier is not the debtor's (registered with a check override)"
    if s.org_code is not None and len(r) == 18 and r[8:17] == s.org_code:
        try:
            canonical_uscc(r)
        except IdentifierError:
            pass
        else:
            return "org_code_equal", "the debtor's organisation code is inside the record's credit code"
    valid = _is_valid(r, id_type)
    for form, equivalence in s.forms.items():
        # A legacy 15-digit number has no check character, so a slip in it usually leaves a "valid"
        # number: there nearness decides. Anywhere else a valid identifier is taken at its word.
        if (
            (not valid or equivalence == "legacy_equal")
            and len(form) == len(r)
            and (edit := _one_edit(form, r))
        ):
            return edit, f"one {edit} away from the debtor's ({equivalence.replace('_', ' ')} form)"
    if valid:
        return "different", "the record holds another valid identifier"
    return "invalid", "the record's identifier is not valid and not within one edit of the debtor's"


def _compare_name(s: _Subject, name: str, cfg: LinkageConfig) -> tuple[str, str | None]:
    norm = normalize_name(name)
    if norm == s.name:
        return "equal", None
    variant = name_variant_key(name, person=s.is_person)
    if variant == s.variant:
        return "variant", "equal after traditional -> simplified"
    owner_form = "" if s.is_person else org_form_key(name)
    if owner_form and owner_form == s.org_form:
        return "org_form", "equal legal form spelt differently (有限责任公司 = 有限公司)"
    if owner_form and (branch_parent(name) == s.org_form or (s.parent and s.parent == owner_form)):
        relation = "a branch of the debtor" if not s.branch else "the parent of the debtor (a branch)"
        return "branch", f"{relation}: its own entity, linked, never merged"
    if owner_form and (stem := _without_legal_form(owner_form)) and stem == _without_legal_form(s.org_form):
        return "legal_form", "the same name in another legal form (有限公司 / 股份有限公司)"
    similarity = Indel.normalized_similarity(variant, s.variant)
    if similarity >= cfg.name_similar_min:
        return "similar", f"similarity {similarity:.2f}"
    return "different", f"similarity {similarity:.2f}"


@lru_cache(maxsize=65536)
def _without_legal_form(org_form: str) -> str | None:
    """The name without its legal form (``华鑫贸易股份有限公司`` -> ``华鑫贸易``), or ``None``."""
    for form in _LEGAL_FORMS:
        if org_form.endswith(form):
            return org_form[: -len(form)]
    return None


def _id_birth_and_region(raw: str) -> tuple[str | None, str | None]:
    """Birth date (YYYYMMDD) and region code readable from a garbled identifier, if any."""
    if len(raw) == 18 and raw[:17].isascii() and raw[:17].isdigit():
        return raw[6:14], raw[:6]
    if len(raw) == 15 and raw.isascii() and raw.isdigit():
        return "19" + raw[6:12], raw[:6]
    return None, None


# ---------------------------------------------------------------- decision


@lru_cache(maxsize=256)  # a few dozen combinations exist
def _bounds(id_outcome: str, name_outcome: str, birth_outcome: str | None) -> tuple[Decision, Decision]:
    """(floor, ceiling) the rules put on the decision; see the module docstring."""
    if name_outcome == "branch" or id_outcome == "different":
        return "non_match", "non_match"
    if id_outcome in _ID_EQUIVALENT:
        if name_outcome in _NAME_SAME:
            return "match", "match"
        if name_outcome == "legal_form":  # a company converted its legal form and kept its code
            return "possible", "match"
        return "possible", "possible"  # the same identifier under another name: a judge decides
    # near, missing or invalid identifier: a court must confirm
    if name_outcome not in _NAME_SAME or birth_outcome == "contradicting":
        return "non_match", "non_match"
    return "non_match", "possible"


def _decide(s: _Subject, owner: RegistryOwner, cfg: LinkageConfig, cache: _EvidenceCache) -> Linkage:
    id_outcome, id_detail = _compare_identifier(s, owner.id_number, owner.id_type)
    name_outcome, name_detail = _compare_name(s, owner.name, cfg)
    evidence = [cache["identifier", id_outcome, id_detail], cache["name", name_outcome, name_detail]]

    birth_outcome = None
    if s.birth is not None:
        id_birth = id_region = None
        if id_outcome == "invalid" and owner.id_number:
            id_birth, id_region = _id_birth_and_region(_clean_id(owner.id_number))
        if owner.birth_date is not None:
            birth_outcome = "consistent" if owner.birth_date == s.birth else "contradicting"
            evidence.append(cache["birth_date", birth_outcome, "the record's birth date vs the debtor's id"])
        elif id_birth is not None:
            birth_outcome = "consistent" if id_birth == s.birth_digits else "contradicting"
            evidence.append(
                cache["birth_date", birth_outcome, "the record's garbled identifier vs the debtor's id"]
            )
        if id_region is not None:
            region_outcome = "consistent" if id_region == s.region else "contradicting"
            evidence.append(
                cache["region", region_outcome, "the record's garbled identifier vs the debtor's id"]
            )

    score = round(sum([e.weight for e in evidence]), 3)
    if score >= cfg.match_threshold:
        by_score: Decision = "match"
    elif score >= cfg.possible_threshold:
        by_score = "possible"
    else:
        by_score = "non_match"
    floor, ceiling = _bounds(id_outcome, name_outcome, birth_outcome)
    decision = _DECISIONS[min(max(_RANK[by_score], _RANK[floor]), _RANK[ceiling])]
    return Linkage(decision=decision, score=score, evidence=evidence)


def link(subject: Party, owner: RegistryOwner, config: LinkageConfig | None = None) -> Linkage:
    """Compare one registry record's owner with the debtor; the evidence lists every field's outcome.

    Evidence values are shared between results (see :class:`_EvidenceCache`): read them, do not
    mutate them.
    """
    s = _prepare(subject.id_type, subject.id_number, subject.name, subject.check_override is not None)
    cfg = config or _DEFAULT_CONFIG
    return _decide(s, owner, cfg, cfg.evidence)


def link_many(
    subject: Party, owners: Iterable[RegistryOwner], config: LinkageConfig | None = None
) -> list[Linkage]:
    """:func:`link` for every record of one debtor, preparing the debtor once."""
    s = _prepare(subject.id_type, subject.id_number, subject.name, subject.check_override is not None)
    cfg = config or _DEFAULT_CONFIG
    cache = cfg.evidence
    return [_decide(s, owner, cfg, cache) for owner in owners]
