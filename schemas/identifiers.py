"""Chinese identifiers: validation and canonical forms.

Each ``canonical_*`` function returns the canonical string or raises :class:`IdentifierError`
(a ``ValueError``) whose message names what is wrong: bad length, bad character, check
character mismatch, impossible birth date. Pydantic turns that message into the 422 a court sees.

- resident identity number: 18 characters, region(6) + YYYYMMDD(8) + sequence(3) + check;
  legacy 15-digit numbers convert by inserting ``19`` before the year and computing the check.
- unified social credit code (USCC): 18 characters from ``USCC_ALPHABET``.
- organisation code: 8 characters + check, written with or without a hyphen; characters 9-17 of
  a USCC.
- business registration number: 15 digits, ISO 7064 MOD 11,10 (an identifier type of its own: a
  company known by one links by equality, never through its credit code).

Before validation a number is *cleaned* as python-stdnum cleans one (``stdnum.util.clean``):
full-width digits, letters and hyphens become ASCII, spaces and hyphens are dropped
(``３２０１０２…`` and ``91 110000 600037341L`` are accepted, not refused). A placeholder (one
character repeated, such as all zeros or all ones) means "unknown" and is never an identifier.

A check-character failure raises :class:`CheckCharacterError`. Some credit codes really issued
before 2016 fail their check; ``canonical_identifier(..., check=False)`` accepts those (every other
rule still applies) for a debtor a court registers with an explicit override.
"""

from __future__ import annotations

import datetime as dt
import operator
from enum import StrEnum

from stdnum.util import clean as _stdnum_clean

__all__ = [
    "USCC_ALPHABET",
    "CheckCharacterError",
    "IdType",
    "IdentifierError",
    "business_reg_check",
    "canonical_business_reg_no",
    "canonical_identifier",
    "canonical_org_code",
    "canonical_resident_id",
    "canonical_uscc",
    "clean_identifier",
    "identifier_variants",
    "is_placeholder",
    "legacy_resident_id",
    "org_code_check",
    "org_code_from_uscc",
    "resident_id_check",
    "uscc_check",
]


class IdType(StrEnum):
    resident_id = "resident_id"
    uscc = "uscc"
    org_code = "org_code"
    business_reg_no = "business_reg_no"


class IdentifierError(ValueError):
    """An identifier that cannot be valid; the message says why."""


class CheckCharacterError(IdentifierError):
    """Well formed, but the check character does not fit (``check character mismatch: ...``)."""


_RID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RID_ZERO = ord("0") * sum(_RID_WEIGHTS)
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_CHARS = frozenset(USCC_ALPHABET)
_USCC_VALUE = bytes.maketrans(USCC_ALPHABET.encode(), bytes(range(len(USCC_ALPHABET))))
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


# full-width Latin letters (U+FF21-FF3A, U+FF41-FF5A): stdnum's clean folds digits and dashes only
_FULLWIDTH_LETTERS = str.maketrans(
    {chr(c): chr(c - 0xFEE0) for r in ((0xFF21, 0xFF3B), (0xFF41, 0xFF5B)) for c in range(*r)}
)


def clean_identifier(value: str) -> str:
    """The number without the spelling noise people type: ``"９１ 110000-600037341l"`` ->
    ``"91110000600037341L"`` (full-width forms to ASCII, spaces and hyphens removed, upper case)."""
    if not isinstance(value, str):
        raise IdentifierError("must be a string")
    if value.isascii() and value.isalnum():  # the common case, kept cheap for linkage
        return value.upper()
    return _stdnum_clean(value, " -").translate(_FULLWIDTH_LETTERS).strip().upper()


def is_placeholder(cleaned: str) -> bool:
    """Whether a cleaned number is a placeholder for "unknown": one character repeated (all zeros,
    all ones, ...). Such a number is missing, not a contradiction."""
    return bool(cleaned) and cleaned.count(cleaned[0]) == len(cleaned)


def _clean(value: str) -> str:
    v = clean_identifier(value)
    if is_placeholder(v):
        raise IdentifierError("a placeholder (one character repeated), not an identifier")
    return v


def _digits(value: str) -> bool:
    """ASCII digits only: ``str.isdigit`` also accepts full-width and superscript digits."""
    return value.isascii() and value.isdigit()


def resident_id_check(first17: str) -> str:
    if len(first17) != 17 or not _digits(first17):
        raise IdentifierError("the check is computed over 17 digits")
    # ASCII digit bytes are 48 + value; the linkage engine validates every record, so keep it cheap
    total = sum(map(operator.mul, first17.encode(), _RID_WEIGHTS)) - _RID_ZERO
    check = (12 - total % 11) % 11
    return "X" if check == 10 else str(check)


def _birth_date(yyyymmdd: str) -> dt.date:
    try:
        return dt.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        raise IdentifierError(f"impossible birth date {yyyymmdd}") from None


def canonical_resident_id(value: str, *, today: dt.date | None = None) -> str:
    """Validate an 18-digit (or legacy 15-digit) resident identity number; return 18 upper-case."""
    v = _clean(value)
    if len(v) == 15:
        if not _digits(v):
            raise IdentifierError("bad character: a 15-digit legacy number has digits only")
        v = legacy_resident_id(v)
        return v
    if len(v) != 18:
        raise IdentifierError(f"bad length: {len(v)} characters, expected 18 (or 15 for a legacy number)")
    if not _digits(v[:17]):
        raise IdentifierError("bad character: the first 17 characters must be digits")
    if not (_digits(v[17]) or v[17] == "X"):
        raise IdentifierError("bad character: the check character must be a digit or X")
    born = _birth_date(v[6:14])
    if born.year < 1900 or born > (today or dt.date.today()):
        raise IdentifierError(f"impossible birth date {v[6:14]}")
    expected = resident_id_check(v[:17])
    if v[17] != expected:
        raise CheckCharacterError(f"check character mismatch: got {v[17]}, expected {expected}")
    return v


def legacy_resident_id(value15: str) -> str:
    """Convert a legacy 15-digit number (region + YYMMDD + sequence) to the 18-character form."""
    if len(value15) != 15 or not _digits(value15):
        raise IdentifierError("a legacy resident identity number has 15 digits")
    _birth_date("19" + value15[6:12])
    first17 = value15[:6] + "19" + value15[6:]
    return first17 + resident_id_check(first17)


def uscc_check(first17: str) -> str:
    if len(first17) != 17 or not _USCC_CHARS.issuperset(first17):
        raise IdentifierError(f"the check is computed over 17 characters of {USCC_ALPHABET}")
    total = sum(map(operator.mul, first17.encode().translate(_USCC_VALUE), _USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def canonical_uscc(value: str) -> str:
    v = _clean(value)
    if len(v) != 18:
        raise IdentifierError(f"bad length: {len(v)} characters, expected 18")
    if not _USCC_CHARS.issuperset(v):
        i, c = next((i, c) for i, c in enumerate(v) if c not in _USCC_CHARS)
        raise IdentifierError(f"bad character {c!r} at position {i + 1} (I, O, S, V, Z are never used)")
    if not _digits(v[2:8]):
        raise IdentifierError("bad character: characters 3-8 (region code) must be digits")
    expected = uscc_check(v[:17])
    if v[17] != expected:
        raise CheckCharacterError(f"check character mismatch: got {v[17]}, expected {expected}")
    org = v[8:17]
    if org[8] != org_code_check(org[:8]):
        raise CheckCharacterError("embedded organisation code (characters 9-17) has a wrong check character")
    return v


def org_code_check(first8: str) -> str:
    total = sum(_ORG_ALPHABET.index(c) * w for c, w in zip(first8, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def canonical_org_code(value: str) -> str:
    """Validate an organisation code (``XXXXXXXX-X`` or ``XXXXXXXXX``); return it without the hyphen."""
    v = _clean(value)
    if len(v) == 10 and v[8] == "-":
        v = v[:8] + v[9]
    if len(v) != 9:
        raise IdentifierError(f"bad length: {len(v)} characters, expected 9 (or 10 with the hyphen)")
    for i, c in enumerate(v[:8]):
        if c not in _ORG_ALPHABET:
            raise IdentifierError(f"bad character {c!r} at position {i + 1}")
    if not (_digits(v[8]) or v[8] == "X"):
        raise IdentifierError("bad character: the check character must be a digit or X")
    expected = org_code_check(v[:8])
    if v[8] != expected:
        raise CheckCharacterError(f"check character mismatch: got {v[8]}, expected {expected}")
    return v


def org_code_from_uscc(uscc: str) -> str:
    return canonical_uscc(uscc)[8:17]


def _mod11_10_valid(digits: str) -> bool:
    check = 5
    for c in digits:
        check = (((check or 10) * 2) % 11 + int(c)) % 10
    return check == 1


def business_reg_check(first14: str) -> str:
    for d in "0123456789":
        if _mod11_10_valid(first14 + d):
            return d
    raise IdentifierError("no check digit fits")  # pragma: no cover - MOD 11,10 always has one


def canonical_business_reg_no(value: str) -> str:
    v = _clean(value)
    if len(v) != 15:
        raise IdentifierError(f"bad length: {len(v)} characters, expected 15")
    if not _digits(v):
        raise IdentifierError("bad character: digits only")
    if not _mod11_10_valid(v):
        raise CheckCharacterError(f"check character mismatch: expected {business_reg_check(v[:14])}")
    return v


_CANONICAL = {
    IdType.resident_id: canonical_resident_id,
    IdType.uscc: canonical_uscc,
    IdType.org_code: canonical_org_code,
    IdType.business_reg_no: canonical_business_reg_no,
}


def canonical_identifier(id_type: str, value: str, *, check: bool = True) -> str:
    """The canonical form of ``value`` as an ``id_type``; raises :class:`IdentifierError` (a
    ``ValueError``: unknown type, bad length or character, impossible birth date, placeholder) or,
    with ``check=True``, :class:`CheckCharacterError`. ``check=False`` returns a number whose only
    fault is its check character cleaned but otherwise as given (an issued code recorded with an
    override)."""
    canonical = _CANONICAL[IdType(id_type)]
    try:
        return canonical(value)
    except CheckCharacterError:
        if check:
            raise
        return _clean(value)


def identifier_variants(id_type: str, canonical: str, *, exact_only: bool = False) -> list[tuple[str, str]]:
    """Forms under which a registry may have recorded this identifier, canonical first.

    A resident id born before 2000 may sit in old records as its 15-digit legacy number; a
    company's credit code may sit as its organisation code (in either spelling). ``exact_only``
    (a code registered with a check override, which links by exact equality only): just the code.
    """
    out = [(id_type, canonical)]
    if exact_only:
        return out
    if id_type == IdType.resident_id and canonical[6:8] == "19":
        out.append((id_type, canonical[:6] + canonical[8:17]))
    if id_type == IdType.uscc:
        org = canonical[8:17]
        out += [(IdType.org_code, org), (IdType.org_code, f"{org[:8]}-{org[8]}")]
    return out
