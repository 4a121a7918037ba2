"""Identifier validation: the DOMAIN.md examples, every kind of refusal, and check-character properties."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from schemas.identifiers import (
    USCC_ALPHABET,
    CheckCharacterError,
    IdentifierError,
    IdType,
    business_reg_check,
    canonical_business_reg_no,
    canonical_identifier,
    canonical_org_code,
    canonical_resident_id,
    canonical_uscc,
    clean_identifier,
    identifier_variants,
    is_placeholder,
    legacy_resident_id,
    org_code_check,
    org_code_from_uscc,
    resident_id_check,
    uscc_check,
)

ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _rid(first17: str) -> str:
    return first17 + resident_id_check(first17)


# ---------------------------------------------------------------- resident identity number


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("110101198001010010", "110101198001010010"),
        ("440305200002290029", "440305200002290029"),  # 29 February of a leap year
        ("32010219901002932X", "32010219901002932X"),
        ("32010219901002932x", "32010219901002932X"),  # lower-case x accepted, stored upper
        (" 110101198001010010 ", "110101198001010010"),
        ("110101800101001", "110101198001010010"),  # legacy 15-digit number
        ("１１0101198001010010", "110101198001010010"),  # full-width digits are cleaned, as in stdnum
        ("３２０１０２１９９０１００２９３２Ｘ", "32010219901002932X"),
        ("110101 19800101 0010", "110101198001010010"),
        ("110101-19800101-001-0", "110101198001010010"),
    ],
)
def test_resident_id_valid(raw: str, canonical: str) -> None:
    assert canonical_resident_id(raw) == canonical


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "bad length"),
        ("11010119800101001", "bad length"),  # 17
        ("1101011980010100100", "bad length"),  # 19
        ("1101011980010100", "bad length"),  # 16
        ("11010119800101001A", "bad character"),  # check neither digit nor X
        ("1101011980010A0010", "bad character"),
        ("11010180010100A", "bad character"),  # legacy with a letter
        ("²10101198001010010", "bad character"),
        ("110101198001010011", "check character mismatch"),
        ("32010219901002932 ", "bad length"),
    ],
)
def test_resident_id_refused(raw: str, reason: str) -> None:
    with pytest.raises(IdentifierError, match=reason):
        canonical_resident_id(raw)


@pytest.mark.parametrize(
    "first17",
    [
        "11010119000229001",  # 1900 is not a leap year
        "11010119900230001",  # 30 February
        "11010119901301001",  # month 13
        "11010119900100001",  # day 0
        "11010118991231001",  # before 1900
    ],
)
def test_resident_id_impossible_birth_date(first17: str) -> None:
    """A correct check character does not make a date real."""
    with pytest.raises(IdentifierError, match="impossible birth date"):
        canonical_resident_id(_rid(first17))


def test_resident_id_future_birth_date() -> None:
    rid = _rid("11010120300101001")
    with pytest.raises(IdentifierError, match="impossible birth date"):
        canonical_resident_id(rid, today=dt.date(2026, 1, 1))
    assert canonical_resident_id(rid, today=dt.date(2030, 1, 1)) == rid


def test_legacy_with_impossible_date_refused() -> None:
    with pytest.raises(IdentifierError, match="impossible birth date"):
        canonical_resident_id("110101000229001")  # 1900-02-29


def test_non_string_refused() -> None:
    with pytest.raises(IdentifierError, match="must be a string"):
        canonical_resident_id(110101198001010010)  # type: ignore[arg-type]


# ---------------------------------------------------------------- unified social credit code


@pytest.mark.parametrize("code", ["91110108MA0R8K3Q1Y", "92440300L12345674D", "Y11100001234567880"])
def test_uscc_valid(code: str) -> None:
    assert canonical_uscc(code) == code
    assert canonical_uscc(code.lower()) == code


def test_uscc_with_letter_authority_accepted() -> None:
    """python-stdnum rejects a letter in position 1; the standard allows it."""
    assert canonical_uscc("Y11100001234567880")[0] == "Y"


@pytest.mark.parametrize("letter", list("IOSVZ"))
def test_uscc_never_used_letters_refused(letter: str) -> None:
    code = "91110108MA0R8K3Q1Y"
    with pytest.raises(IdentifierError, match="bad character"):
        canonical_uscc(code[:9] + letter + code[10:])


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("91110108MA0R8K3Q1", "bad length"),
        ("91110108MA0R8K3Q1YY", "bad length"),
        ("91110108MA0R8K3Q1*", "bad character"),
        ("911A0108MA0R8K3Q1Y", "region code"),
        ("91110108MA0R8K3Q1X", "check character mismatch"),
    ],
)
def test_uscc_refused(raw: str, reason: str) -> None:
    with pytest.raises(IdentifierError, match=reason):
        canonical_uscc(raw)


def test_uscc_with_invalid_embedded_org_code_refused() -> None:
    first8 = "MA0R8K3Q"
    wrong = next(c for c in "0123456789" if c != org_code_check(first8))
    first17 = "91110108" + first8 + wrong
    with pytest.raises(IdentifierError, match="embedded organisation code"):
        canonical_uscc(first17 + uscc_check(first17))


def test_org_code_from_uscc() -> None:
    assert org_code_from_uscc("91110108MA0R8K3Q1Y") == canonical_org_code("MA0R8K3Q-1")


# ---------------------------------------------------------------- organisation code


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("86012904-X", "86012904X"),
        ("86012904X", "86012904X"),
        ("86012904-x", "86012904X"),
        ("67869819-0", "678698190"),  # check value 11 is written 0
        ("MA0R8K3Q-1", "MA0R8K3Q1"),
    ],
)
def test_org_code_valid(raw: str, canonical: str) -> None:
    assert canonical_org_code(raw) == canonical


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("86012904", "bad length"),
        ("86012904-XX", "bad length"),
        ("8601290*-X", "bad character"),
        ("86012904-Y", "bad character"),
        ("86012904-1", "check character mismatch"),
    ],
)
def test_org_code_refused(raw: str, reason: str) -> None:
    with pytest.raises(IdentifierError, match=reason):
        canonical_org_code(raw)


# ---------------------------------------------------------------- business registration number


def test_business_reg_no_valid() -> None:
    assert canonical_business_reg_no("110108000000016") == "110108000000016"
    assert business_reg_check("11010800000001") == "6"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("11010800000001", "bad length"),
        ("1101080000000160", "bad length"),
        ("11010800000001A", "bad character"),
        ("110108000000017", "check character mismatch"),
    ],
)
def test_business_reg_no_refused(raw: str, reason: str) -> None:
    with pytest.raises(IdentifierError, match=reason):
        canonical_business_reg_no(raw)


# ---------------------------------------------------------------- dispatch and variants


@pytest.mark.parametrize(
    ("id_type", "raw", "canonical"),
    [
        ("resident_id", "110101800101001", "110101198001010010"),
        ("uscc", "91110108ma0r8k3q1y", "91110108MA0R8K3Q1Y"),
        ("org_code", "67869819-0", "678698190"),
        ("business_reg_no", "110108000000016", "110108000000016"),
    ],
)
def test_canonical_identifier_dispatch(id_type: str, raw: str, canonical: str) -> None:
    assert canonical_identifier(id_type, raw) == canonical


def test_canonical_identifier_unknown_type() -> None:
    with pytest.raises(ValueError, match="passport"):
        canonical_identifier("passport", "E12345678")


def test_identifier_variants() -> None:
    assert identifier_variants(IdType.resident_id, "110101198001010010") == [
        (IdType.resident_id, "110101198001010010"),
        (IdType.resident_id, "110101800101001"),
    ]
    assert identifier_variants(IdType.resident_id, "440305200002290029") == [
        (IdType.resident_id, "440305200002290029")  # born 2000: never had a legacy number
    ]
    assert identifier_variants(IdType.uscc, "91110108MA0R8K3Q1Y") == [
        (IdType.uscc, "91110108MA0R8K3Q1Y"),
        (IdType.org_code, "MA0R8K3Q1"),
        (IdType.org_code, "MA0R8K3Q-1"),
    ]


def test_identifier_variants_of_a_code_with_a_check_override_is_the_code_alone() -> None:
    assert identifier_variants(IdType.uscc, "91350203M0001QKT19", exact_only=True) == [
        (IdType.uscc, "91350203M0001QKT19")
    ]


# ---------------------------------------------------------------- cleaning, placeholders, overrides


@pytest.mark.parametrize(
    ("id_type", "raw", "canonical"),
    [
        ("uscc", "91 110000 600037341L", "91110000600037341L"),  # python-stdnum's own example
        ("uscc", "９１１１００００６０００３７３４１Ｌ", "91110000600037341L"),
        ("uscc", "91110000-600037341-l", "91110000600037341L"),
        ("resident_id", "３２０１０２１９９０１００２９３２ｘ", "32010219901002932X"),
        ("org_code", "８６０１２９０４－Ｘ", "86012904X"),
        ("org_code", "86012904\u2010X", "86012904X"),  # a Unicode hyphen
        ("business_reg_no", "110 108 000 000 016", "110108000000016"),
    ],
)
def test_full_width_digits_spaces_and_hyphens_are_cleaned_before_validation(
    id_type: str, raw: str, canonical: str
) -> None:
    assert canonical_identifier(id_type, raw) == canonical
    assert clean_identifier(raw) == canonical


def test_superscript_digits_are_not_cleaned_into_digits() -> None:
    with pytest.raises(IdentifierError, match="bad character"):
        canonical_resident_id("²10101198001010010")


@pytest.mark.parametrize(
    ("id_type", "raw"),
    [
        ("uscc", "000000000000000000"),  # passes the GB 32100 check, but means "unknown"
        ("uscc", "111111111111111111"),
        ("org_code", "000000000"),
        ("org_code", "00000000-0"),
        ("resident_id", "000000000000000000"),
        ("business_reg_no", "000000000000000"),
    ],
)
def test_placeholders_are_refused(id_type: str, raw: str) -> None:
    assert is_placeholder(clean_identifier(raw))
    with pytest.raises(IdentifierError, match="placeholder"):
        canonical_identifier(id_type, raw)


def test_a_check_failure_is_its_own_error_and_may_be_accepted_explicitly() -> None:
    code = "91350203M0001QKT19"  # issued before 2016; fails the check character
    with pytest.raises(CheckCharacterError, match="check character mismatch: got 9, expected F"):
        canonical_identifier("uscc", code)
    assert canonical_identifier("uscc", " 91350203m0001qkt19", check=False) == code
    for id_type, raw, reason in (
        ("uscc", "91350203M0001QKT1", "bad length"),
        ("uscc", "91350203M0001QKTI9", "bad character"),
        ("resident_id", "110101198002300010", "impossible birth date"),
        ("uscc", "000000000000000000", "placeholder"),
    ):
        with pytest.raises(IdentifierError, match=reason) as refused:
            canonical_identifier(id_type, raw, check=False)
        assert not isinstance(refused.value, CheckCharacterError)


# ---------------------------------------------------------------- properties

_digits = st.text(alphabet="0123456789", min_size=1, max_size=1)


@st.composite
def resident_ids(draw: st.DrawFn, *, until: dt.date = dt.date(2025, 12, 31)) -> str:
    region = draw(st.text(alphabet="0123456789", min_size=6, max_size=6))
    born = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=until))
    sequence = draw(st.text(alphabet="0123456789", min_size=3, max_size=3))
    return _rid(region + born.strftime("%Y%m%d") + sequence)


@st.composite
def usccs(draw: st.DrawFn) -> str:
    head = draw(st.text(alphabet=USCC_ALPHABET, min_size=2, max_size=2))
    region = draw(st.text(alphabet="0123456789", min_size=6, max_size=6))
    org8 = draw(st.text(alphabet=USCC_ALPHABET, min_size=8, max_size=8))
    first17 = head + region + org8 + org_code_check(org8)
    return first17 + uscc_check(first17)


@st.composite
def org_codes(draw: st.DrawFn) -> str:
    first8 = draw(st.text(alphabet=ORG_ALPHABET, min_size=8, max_size=8))
    return first8 + org_code_check(first8)


@st.composite
def business_reg_nos(draw: st.DrawFn) -> str:
    first14 = draw(st.text(alphabet="0123456789", min_size=14, max_size=14))
    return first14 + business_reg_check(first14)


def _substitute(value: str, position: int, char: str) -> str:
    return value[:position] + char + value[position + 1 :]


@given(resident_ids())
def test_resident_id_round_trip(rid: str) -> None:
    assert canonical_resident_id(rid) == rid
    assert canonical_resident_id(rid.lower()) == rid
    assert canonical_identifier("resident_id", rid) == rid


@given(resident_ids(), st.integers(0, 16), _digits)
def test_resident_id_single_substitution_caught(rid: str, position: int, digit: str) -> None:
    """Weights are non-zero mod 11 and digits differ by less than 11: every substitution changes the check."""
    mutated = _substitute(rid, position, digit)
    if mutated == rid:
        return
    assert resident_id_check(mutated[:17]) != mutated[17]
    with pytest.raises(IdentifierError):
        canonical_resident_id(mutated)


@given(resident_ids(until=dt.date(1999, 12, 31)))
def test_legacy_round_trip(rid: str) -> None:
    legacy = rid[:6] + rid[8:17]
    assert canonical_resident_id(legacy) == rid
    assert legacy_resident_id(legacy) == rid
    assert (IdType.resident_id, legacy) in identifier_variants(IdType.resident_id, rid)


@given(usccs())
def test_uscc_round_trip(code: str) -> None:
    assume(not is_placeholder(code) and not is_placeholder(code[8:17]))  # all zeros: "unknown"
    assert canonical_uscc(code) == code
    assert canonical_uscc(code.lower()) == code
    assert org_code_from_uscc(code) == canonical_org_code(code[8:17])


@given(usccs(), st.integers(0, 17), st.sampled_from(USCC_ALPHABET))
def test_uscc_single_substitution_caught(code: str, position: int, char: str) -> None:
    """31 is prime and no weight is 0 mod 31: every substitution anywhere changes the check."""
    mutated = _substitute(code, position, char)
    if mutated == code:
        return
    assert uscc_check(mutated[:17]) != mutated[17]
    with pytest.raises(IdentifierError):
        canonical_uscc(mutated)


@given(org_codes())
def test_org_code_round_trip(code: str) -> None:
    assume(not is_placeholder(code))
    assert canonical_org_code(code) == code
    assert canonical_org_code(f"{code[:8]}-{code[8]}".lower()) == code


@given(org_codes(), st.integers(0, 8), st.sampled_from(ORG_ALPHABET))
def test_org_code_single_substitution_caught(code: str, position: int, char: str) -> None:
    """Caught unless the two characters' values differ by a multiple of 11 (see the next test)."""
    mutated = _substitute(code, position, char)
    if mutated == code:
        return
    if position < 8 and (ORG_ALPHABET.index(code[position]) - ORG_ALPHABET.index(char)) % 11 == 0:
        return
    with pytest.raises(IdentifierError):
        canonical_org_code(mutated)


def test_org_code_check_misses_values_eleven_apart() -> None:
    """The limit of the algorithm, stated: letters are worth 10-35, so 0 and B (11) collide."""
    assert org_code_check("0" + "6012904") == org_code_check("B" + "6012904")


@given(business_reg_nos())
def test_business_reg_no_round_trip(number: str) -> None:
    assert canonical_business_reg_no(number) == number


@given(business_reg_nos(), st.integers(0, 14), _digits)
def test_business_reg_no_single_substitution_caught(number: str, position: int, digit: str) -> None:
    """ISO 7064 MOD 11,10 detects every single-digit substitution."""
    mutated = _substitute(number, position, digit)
    if mutated == number:
        return
    with pytest.raises(IdentifierError):
        canonical_business_reg_no(mutated)
