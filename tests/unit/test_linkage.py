"""Identity linkage: every hard case gets the decision the rules require, with its evidence listed."""

from __future__ import annotations

import datetime as dt
import math
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.identifiers import IdType, resident_id_check
from schemas.models import Linkage, Party, RegistryOwner
from streams.linkage import FieldLevel, LinkageConfig, link, link_many

PERSON = Party(name="张伟", id_type=IdType.resident_id, id_number="110101198001010010")
BORN = dt.date(1980, 1, 1)
COMPANY = Party(name="北京华鑫科技有限责任公司", id_type=IdType.uscc, id_number="91110108MA0R8K3Q1Y")
OTHER_PERSON_ID = "440305200002290029"


def outcomes(linkage: Linkage) -> dict[str, str]:
    return {e.field: e.outcome for e in linkage.evidence}


def person(
    name: str = "张伟", id_number: str | None = PERSON.id_number, birth_date: dt.date | None = None
) -> RegistryOwner:
    return RegistryOwner(name=name, id_type=IdType.resident_id, id_number=id_number, birth_date=birth_date)


def company(name: str = COMPANY.name, id_number: str | None = COMPANY.id_number) -> RegistryOwner:
    return RegistryOwner(name=name, id_type=IdType.uscc, id_number=id_number)


def _rid(first17: str) -> str:
    return first17 + resident_id_check(first17)


# ---------------------------------------------------------------- identifier equal => match


@pytest.mark.parametrize(
    ("owner", "expected"),
    [
        (person(), {"identifier": "exact", "name": "equal"}),
        (person(birth_date=BORN), {"identifier": "exact", "name": "equal", "birth_date": "consistent"}),
        (person(id_number=" 110101198001010010 "), {"identifier": "exact", "name": "equal"}),
        (person(id_number="110101800101001"), {"identifier": "legacy_equal", "name": "equal"}),  # legacy
        (person(name="張偉"), {"identifier": "exact", "name": "variant"}),  # traditional characters
        (person(name="張偉", id_number="110101800101001"), {"identifier": "legacy_equal", "name": "variant"}),
        (person(name="张 伟"), {"identifier": "exact", "name": "equal"}),
        (person(name="张\u3000伟"), {"identifier": "exact", "name": "equal"}),
    ],
)
def test_person_identifier_equal_and_name_equal_is_match(
    owner: RegistryOwner, expected: dict[str, str]
) -> None:
    result = link(PERSON, owner)
    assert result.decision == "match"
    assert outcomes(result) == expected
    assert result.score == pytest.approx(sum(e.weight for e in result.evidence), abs=1e-6)


def test_lower_case_check_character_is_the_same_identifier() -> None:
    subject = Party(name="李娜", id_type=IdType.resident_id, id_number="32010219901002932X")
    result = link(subject, person(name="李娜", id_number="32010219901002932x"))
    assert (result.decision, outcomes(result)["identifier"]) == ("match", "exact")


SEPARATORS = ["·", "•", "・", "‧", "･", "．", ".", "ㆍ", " ", "\u3000", "", "-"]


@pytest.mark.parametrize("court_dot", ["·", "．", ""])
@pytest.mark.parametrize("dot", SEPARATORS)
def test_minority_name_with_another_separator(court_dot: str, dot: str) -> None:
    """However the separator is typed (or left out), 买买提·吐尔逊 is one name."""
    subject = Party(name=f"买买提{court_dot}吐尔逊", id_type=IdType.resident_id, id_number=PERSON.id_number)
    result = link(subject, person(name=f"买买提{dot}吐尔逊"))
    assert (result.decision, outcomes(result)["name"]) == ("match", "equal")
    without_id = link(subject, person(name=f"买买提{dot}吐尔逊", id_number=None))
    assert (without_id.decision, outcomes(without_id)) == (
        "possible",
        {"identifier": "missing", "name": "equal"},
    )


def test_a_separator_does_not_join_two_other_names() -> None:
    subject = Party(name="买买提·吐尔逊", id_type=IdType.resident_id, id_number=PERSON.id_number)
    assert link(subject, person(name="买买提·艾力", id_number=None)).decision == "non_match"
    assert link(subject, person(name="吐尔逊·买买提", id_number=None)).decision == "non_match"


@pytest.mark.parametrize("ling", ["〇", "○", "◯", "O", "o", "0", "０", "Ｏ", "零"])
def test_ling_in_a_name_in_any_of_its_forms(ling: str) -> None:
    subject = Party(name="李〇华", id_type=IdType.resident_id, id_number=PERSON.id_number)
    assert outcomes(link(subject, person(name=f"李{ling}华")))["name"] == "equal"
    assert link(subject, person(name=f"李{ling}华", id_number=None)).decision == "possible"
    at_end = Party(name=f"王{ling}", id_type=IdType.resident_id, id_number=PERSON.id_number)
    assert link(at_end, person(name="王〇", id_number=None)).decision == "possible"


@pytest.mark.parametrize(
    ("owner", "expected"),
    [
        (company(), {"identifier": "exact", "name": "equal"}),
        (company(id_number="MA0R8K3Q-1"), {"identifier": "org_code_equal", "name": "equal"}),  # old org code
        (company(id_number="ma0r8k3q1"), {"identifier": "org_code_equal", "name": "equal"}),
        (company(name="北京华鑫科技有限公司"), {"identifier": "exact", "name": "org_form"}),
        (
            company(name="北京華鑫科技有限公司", id_number="MA0R8K3Q1"),
            {"identifier": "org_code_equal", "name": "org_form"},
        ),
        (company(name="北京华鑫科技有限责任公司 "), {"identifier": "exact", "name": "equal"}),
    ],
)
def test_company_identifier_equal_and_name_equal_is_match(
    owner: RegistryOwner, expected: dict[str, str]
) -> None:
    result = link(COMPANY, owner)
    assert result.decision == "match"
    assert outcomes(result) == expected


def test_full_width_name_is_equal_after_normalisation() -> None:
    subject = Party(name="BJ华鑫科技（北京）有限公司", id_type=IdType.uscc, id_number=COMPANY.id_number)
    result = link(subject, company(name="ＢＪ华鑫科技(北京)有限公司"))
    assert (result.decision, outcomes(result)["name"]) == ("match", "equal")


def test_debtor_known_by_org_code_links_to_a_credit_code_record() -> None:
    subject = Party(name=COMPANY.name, id_type=IdType.org_code, id_number="MA0R8K3Q-1")
    result = link(subject, company())
    assert (result.decision, outcomes(result)["identifier"]) == ("match", "org_code_equal")


def test_joint_stock_form_is_weak_evidence_not_a_veto() -> None:
    """A company may convert to 股份有限公司 and keep its credit code."""
    result = link(COMPANY, company(name="北京华鑫科技股份有限公司"))
    assert outcomes(result) == {"identifier": "exact", "name": "legal_form"}
    assert result.decision == "match"


@pytest.mark.parametrize(
    "name",
    [
        "北京华鑫科技控股有限公司",  # the holding company's name
        "北京华鑫科技集团有限公司",
        "北京华鑫科技发展有限公司",
        "北京华鑫控股有限公司",
    ],
)
def test_the_debtors_credit_code_under_another_companys_name_is_possible(name: str) -> None:
    """A group company's record carrying the debtor's exact code: a judge decides, never a match."""
    for id_number in (COMPANY.id_number, "MA0R8K3Q-1"):
        result = link(COMPANY, company(name=name, id_number=id_number))
        assert result.decision == "possible", (name, id_number, outcomes(result))
        assert outcomes(result)["identifier"] in {"exact", "org_code_equal"}


@pytest.mark.parametrize("name", ["张伟伟", "张伟强", "张强", "王伟", "张玮"])
def test_the_debtors_resident_id_under_a_siblings_name_is_possible(name: str) -> None:
    for owner in (
        person(name=name),
        person(name=name, birth_date=BORN),
        person(name=name, id_number="110101800101001"),
    ):
        result = link(PERSON, owner)
        assert result.decision == "possible", (name, outcomes(result))


def test_identifier_equal_but_name_different_needs_a_court() -> None:
    result = link(PERSON, person(name="欧阳秀英"))
    assert outcomes(result) == {"identifier": "exact", "name": "different"}
    assert result.decision == "possible"


def test_surname_exception_is_not_a_variant() -> None:
    """於 and 于 are different surnames: the identifier alone cannot make them one person."""
    subject = Party(name="于国强", id_type=IdType.resident_id, id_number=PERSON.id_number)
    result = link(subject, person(name="於國強"))
    assert outcomes(result)["name"] not in {"equal", "variant"}
    assert result.decision == "possible"


@pytest.mark.parametrize(
    ("subject_name", "owner_name"),
    [
        ("甯海", "宁海"),
        ("宁海", "甯海"),
        ("昇明", "升明"),
        ("陞平", "升平"),
        ("於國強", "于国强"),
        ("李昇", "李升"),
        ("張甯", "张宁"),
        ("乾明", "干明"),
    ],
)
def test_distinct_surnames_are_not_a_script_variant(subject_name: str, owner_name: str) -> None:
    """甯 is not 宁, 昇 is not 升: the same identifier under such a surname needs a judge."""
    subject = Party(name=subject_name, id_type=IdType.resident_id, id_number=PERSON.id_number)
    result = link(subject, person(name=owner_name))
    assert outcomes(result)["name"] not in {"equal", "variant"}
    assert result.decision == "possible"
    assert link(subject, person(name=owner_name, id_number=None, birth_date=BORN)).decision == "non_match"


def test_a_surname_written_in_traditional_script_is_still_a_variant() -> None:
    subject = Party(name="钟海", id_type=IdType.resident_id, id_number=PERSON.id_number)
    assert (
        link(subject, person(name="鍾海")).decision,
        outcomes(link(subject, person(name="鍾海")))["name"],
    ) == (
        "match",
        "variant",
    )


def test_legal_form_spelling_without_an_identifier_is_possible() -> None:
    """有限公司 / 有限责任公司 is one legal form: a record without an identifier reaches a judge."""
    for name in ("北京华鑫科技有限公司", "北京华鑫科技有限责任公司"):
        result = link(COMPANY, company(name=name, id_number=None))
        assert result.decision == "possible", (name, outcomes(result))
    assert link(COMPANY, company(name="北京华鑫科技股份有限公司", id_number=None)).decision == "non_match"


@pytest.mark.parametrize(
    "raw",
    [
        "１１０１０１１９８００１０１００１０",
        "110101 19800101 0010",
        "110101-19800101-0010",
        " 11010119800101001０",
    ],
)
def test_identifier_spelt_with_full_width_digits_spaces_or_hyphens_is_exact(raw: str) -> None:
    assert (
        link(PERSON, person(id_number=raw)).decision,
        outcomes(link(PERSON, person(id_number=raw)))["identifier"],
    ) == (
        "match",
        "exact",
    )


# ---------------------------------------------------------------- placeholders, other kinds, overrides


@pytest.mark.parametrize(
    "placeholder",
    ["000000000000000000", "111111111111111111", "000000000", "0", "00000000-0", "１１１１１１"],
)
def test_placeholder_identifier_counts_as_missing(placeholder: str) -> None:
    for subject, owner, named in (
        (PERSON, person(id_number=placeholder), person(name="王芳", id_number=placeholder)),
        (
            COMPANY,
            company(id_number=placeholder),
            company(name="上海远大物流有限公司", id_number=placeholder),
        ),
    ):
        result = link(subject, owner)
        assert (result.decision, outcomes(result)["identifier"]) == ("possible", "missing"), placeholder
        assert link(subject, named).decision == "non_match"


REG_NO = "110108000000016"  # a business registration number (ISO 7064 MOD 11,10)
OLD_COMPANY = Party(name="北京华鑫科技有限公司", id_type=IdType.business_reg_no, id_number=REG_NO)


def _reg(
    name: str = OLD_COMPANY.name, number: str | None = REG_NO, id_type: str = "business_reg_no"
) -> RegistryOwner:
    return RegistryOwner(name=name, id_type=id_type, id_number=number)


def test_business_registration_number_links_by_equality() -> None:
    assert (link(OLD_COMPANY, _reg()).decision, outcomes(link(OLD_COMPANY, _reg()))["identifier"]) == (
        "match",
        "exact",
    )
    assert link(OLD_COMPANY, _reg(name="北京华鑫科技有限责任公司")).decision == "match"
    other = "110108000000024"
    assert link(OLD_COMPANY, _reg(number=other)).decision == "non_match"  # another valid number
    assert outcomes(link(OLD_COMPANY, _reg(number=other)))["identifier"] == "different"


def test_business_registration_number_against_a_credit_code_cannot_be_compared() -> None:
    """The same company holds both: a record under the other kind counts as missing, not against."""
    result = link(COMPANY, _reg(name=COMPANY.name))
    assert (result.decision, outcomes(result)["identifier"]) == ("possible", "other_type")
    result = link(OLD_COMPANY, company(name=OLD_COMPANY.name))
    assert (result.decision, outcomes(result)["identifier"]) == ("possible", "other_type")
    assert link(COMPANY, _reg(name="上海远大物流有限公司")).decision == "non_match"


UNCHECKED = "91350203M0001QKT19"  # issued before 2016; its check character does not fit


def test_a_code_registered_with_a_check_override_links_by_exact_equality_only() -> None:
    subject = Party(
        name="厦门华鑫贸易有限公司", id_type=IdType.uscc, id_number=UNCHECKED, check_override="issued in 2012"
    )
    exact = link(subject, company(name="厦门华鑫贸易有限公司", id_number=UNCHECKED))
    assert (exact.decision, outcomes(exact)["identifier"]) == ("match", "exact")
    assert (
        link(subject, company(name="厦门华鑫贸易有限公司", id_number=UNCHECKED.lower())).decision == "match"
    )
    for near in (
        UNCHECKED[8:17],
        UNCHECKED[:13] + UNCHECKED[14] + UNCHECKED[13] + UNCHECKED[15:],
        UNCHECKED[:-1] + "F",
    ):
        result = link(subject, company(name="厦门华鑫贸易有限公司", id_number=near))
        assert result.decision != "match", near
        assert outcomes(result)["identifier"] not in {"transposition", "substitution", "org_code_equal"}
    assert (
        link(subject, company(name="厦门华鑫贸易有限公司", id_number=COMPANY.id_number)).decision
        == "non_match"
    )


# ---------------------------------------------------------------- different valid identifier => non_match


@pytest.mark.parametrize("name", ["张伟", "張偉", "张 伟"])
def test_homonym_with_another_valid_identifier_is_non_match(name: str) -> None:
    result = link(PERSON, person(name=name, id_number=OTHER_PERSON_ID))
    assert result.decision == "non_match"
    assert outcomes(result)["identifier"] == "different"


def test_homonym_born_the_same_day_in_the_same_place_is_non_match() -> None:
    """The hardest negative: name, birth date and region agree; only the sequence differs."""
    twin = _rid("11010119800101003")
    result = link(PERSON, person(id_number=twin, birth_date=BORN))
    assert outcomes(result) == {"identifier": "different", "name": "equal", "birth_date": "consistent"}
    assert result.decision == "non_match"


def test_person_record_against_a_company_debtor_is_non_match() -> None:
    result = link(
        COMPANY, RegistryOwner(name=COMPANY.name, id_type=IdType.resident_id, id_number=PERSON.id_number)
    )
    assert (result.decision, outcomes(result)["identifier"]) == ("non_match", "different")


# ---------------------------------------------------------------- branch vs parent


def test_branch_record_with_its_own_code_is_non_match() -> None:
    branch_code = "91110108MA0R8K3Q1Y"
    parent = Party(name="武汉华鑫贸易有限公司", id_type=IdType.uscc, id_number="92440300L12345674D")
    result = link(parent, company(name="武汉华鑫贸易有限公司江岸分公司", id_number=branch_code))
    assert result.decision == "non_match"
    assert outcomes(result) == {"identifier": "different", "name": "branch"}
    assert "branch of the debtor" in (result.evidence[1].detail or "")


def test_branch_record_under_the_parents_code_is_still_non_match() -> None:
    """A branch is never merged into its parent, even when the registry keyed it by the parent's code."""
    result = link(COMPANY, company(name="北京华鑫科技有限公司上海分公司"))
    assert outcomes(result) == {"identifier": "exact", "name": "branch"}
    assert result.decision == "non_match"


def test_parent_record_against_a_branch_debtor_is_non_match() -> None:
    branch = Party(name="北京华鑫科技有限公司上海分公司", id_type=IdType.uscc, id_number=COMPANY.id_number)
    result = link(branch, company(name="北京华鑫科技有限公司"))
    assert outcomes(result)["name"] == "branch"
    assert "parent of the debtor" in (result.evidence[1].detail or "")
    assert result.decision == "non_match"


# ---------------------------------------------------------------- near identifier => possible at most


def test_transposed_digits_same_name_consistent_birth_date_is_possible() -> None:
    transposed = "110101198001001010"  # positions 14 and 15 swapped; the check no longer fits
    result = link(PERSON, person(id_number=transposed, birth_date=BORN))
    assert outcomes(result) == {"identifier": "transposition", "name": "equal", "birth_date": "consistent"}
    assert result.score >= LinkageConfig().match_threshold  # the score alone would say match ...
    assert result.decision == "possible"  # ... but a court must confirm


def test_transposed_legacy_number_is_possible() -> None:
    """A legacy number has no check character: the slip leaves a "valid" number, one edit away."""
    result = link(PERSON, person(id_number="110101801001001"))
    assert outcomes(result)["identifier"] == "transposition"
    assert "legacy" in (result.evidence[0].detail or "")
    assert result.decision == "possible"


def test_transposed_credit_code_is_possible() -> None:
    code = COMPANY.id_number
    transposed = code[:9] + code[10] + code[9] + code[11:]
    result = link(COMPANY, company(id_number=transposed))
    assert (result.decision, outcomes(result)["identifier"]) == ("possible", "transposition")


def test_transposition_that_happens_to_be_a_valid_credit_code_is_still_a_slip() -> None:
    """All-digit strings can be valid credit codes too; the type the registry recorded counts."""
    subject = Party(name="赵军", id_type=IdType.resident_id, id_number="420602194003269905")
    slip = "420620194003269905"  # region digits swapped: an invalid resident id, a valid USCC
    result = link(subject, RegistryOwner(name="赵军", id_type=IdType.resident_id, id_number=slip))
    assert (result.decision, outcomes(result)["identifier"]) == ("possible", "transposition")


def test_one_substituted_digit_is_possible() -> None:
    result = link(PERSON, person(id_number="110101198001010019"))
    assert (result.decision, outcomes(result)["identifier"]) == ("possible", "substitution")


def test_transposed_digits_with_another_name_is_non_match() -> None:
    result = link(PERSON, person(name="王芳", id_number="110101198001001010"))
    assert result.decision == "non_match"


def test_transposed_digits_with_contradicting_birth_date_is_non_match() -> None:
    result = link(PERSON, person(id_number="110101198001001010", birth_date=dt.date(1981, 5, 5)))
    assert outcomes(result)["birth_date"] == "contradicting"
    assert result.decision == "non_match"


# ---------------------------------------------------------------- missing or invalid identifier


def test_no_identifier_same_name_is_possible_at_most() -> None:
    result = link(PERSON, person(id_number=None))
    assert outcomes(result) == {"identifier": "missing", "name": "equal"}
    assert result.decision == "possible"


def test_no_identifier_same_name_and_birth_date_is_still_possible() -> None:
    """Name plus birth date is not an identity: about a dozen 张伟 share each birth date."""
    result = link(PERSON, person(id_number="", birth_date=BORN))
    assert outcomes(result) == {"identifier": "missing", "name": "equal", "birth_date": "consistent"}
    assert result.decision == "possible"


@pytest.mark.parametrize(
    "owner",
    [person(name="王芳", id_number=None), person(id_number=None, birth_date=dt.date(1990, 3, 3))],
)
def test_no_identifier_and_anything_against_is_non_match(owner: RegistryOwner) -> None:
    assert link(PERSON, owner).decision == "non_match"


def test_garbled_identifier_lends_its_birth_date_and_region() -> None:
    garbled = "110101198001019999"  # two substitutions: invalid and not one edit away
    result = link(PERSON, person(id_number=garbled))
    assert outcomes(result) == {
        "identifier": "invalid",
        "name": "equal",
        "birth_date": "consistent",
        "region": "consistent",
    }
    assert result.decision == "possible"


def test_garbled_identifier_with_another_birth_date_is_non_match() -> None:
    result = link(PERSON, person(id_number="110101199001019999"))
    assert outcomes(result)["birth_date"] == "contradicting"
    assert result.decision == "non_match"


def test_unparseable_identifier() -> None:
    result = link(PERSON, person(id_number="not even a number"))
    assert outcomes(result) == {"identifier": "invalid", "name": "equal"}
    assert result.decision == "possible"


# ---------------------------------------------------------------- configuration and API


def test_weights_are_log_likelihood_ratios() -> None:
    config = LinkageConfig()
    level = config.identifier["exact"]
    assert config.weights["identifier", "exact"] == pytest.approx(math.log2(level.m / level.u), abs=1e-3)
    evidence = link(PERSON, person()).evidence[0]
    assert evidence.weight == config.weights["identifier", "exact"]


def test_thresholds_and_weights_can_be_overridden() -> None:
    strict = LinkageConfig(match_threshold=40, possible_threshold=30)
    assert link(PERSON, person(id_number=None), strict).decision == "non_match"
    rare_name = {**LinkageConfig().name, "equal": FieldLevel(m=0.9, u=1e-6)}
    config = LinkageConfig(name=rare_name)
    assert link(PERSON, person(id_number=None), config).score > link(PERSON, person(id_number=None)).score


def test_copies_are_validated_and_get_their_own_weights() -> None:
    base = LinkageConfig()
    assert base.weights["name", "equal"] > 0
    copy = base.model_copy(update={"name": {**base.name, "equal": FieldLevel(m=0.5, u=0.5)}})
    assert copy.weights["name", "equal"] == 0
    assert base.weights["name", "equal"] > 0
    with pytest.raises(ValueError):
        base.model_copy(update={"possible_threshold": 99})


def test_rules_bound_any_configuration() -> None:
    """No threshold setting turns a homonym into a match or a near identifier into one."""
    lax = LinkageConfig(match_threshold=-100, possible_threshold=-100)
    assert link(PERSON, person(id_number=OTHER_PERSON_ID), lax).decision == "non_match"
    assert link(PERSON, person(id_number="110101198001001010"), lax).decision == "possible"
    severe = LinkageConfig(match_threshold=1000, possible_threshold=1000)
    assert link(PERSON, person(), severe).decision == "match"


@pytest.mark.parametrize(
    "bad",
    [
        {"identifier": {"exact": FieldLevel(m=0.9, u=1e-9)}},  # every outcome needs its m/u
        {"match_threshold": 5, "possible_threshold": 10},
        {"name_similar_min": 1.5},
    ],
)
def test_invalid_configuration_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        LinkageConfig.model_validate(bad)


def test_field_level_refuses_impossible_probabilities() -> None:
    with pytest.raises(ValueError):
        FieldLevel(m=0, u=0.5)


def test_link_many_equals_link() -> None:
    owners = [person(), person(id_number=OTHER_PERSON_ID), person(id_number=None), person(name="王芳")]
    assert link_many(PERSON, owners) == [link(PERSON, o) for o in owners]


def test_linkage_is_a_valid_message() -> None:
    result = link(COMPANY, company(id_number="MA0R8K3Q-1"))
    assert Linkage.model_validate_json(result.model_dump_json()) == result


def test_module_does_not_import_faust() -> None:
    code = "import sys, streams.linkage; sys.exit('faust' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# ---------------------------------------------------------------- properties

_first17 = st.builds(
    lambda region, born, seq: f"{region}{born:%Y%m%d}{seq}",
    st.text(alphabet="0123456789", min_size=6, max_size=6),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2025, 12, 31)),
    st.text(alphabet="0123456789", min_size=3, max_size=3),
)
_names = st.sampled_from(["张伟", "王伟", "張偉", "李娜", "欧阳秀英", "阿依古丽·买买提"])


@given(_first17, _first17, _names, _names, st.none() | st.dates())
def test_another_valid_identifier_never_links(
    a: str, b: str, subject_name: str, owner_name: str, born: dt.date | None
) -> None:
    if a == b:
        return
    subject = Party(name=subject_name, id_type=IdType.resident_id, id_number=_rid(a))
    result = link(subject, person(name=owner_name, id_number=_rid(b), birth_date=born))
    assert result.decision == "non_match"


@given(_first17, st.integers(0, 15), _names, st.none() | st.dates())
def test_adjacent_transposition_never_matches(first17: str, i: int, name: str, born: dt.date | None) -> None:
    rid = _rid(first17)
    swapped = rid[:i] + rid[i + 1] + rid[i] + rid[i + 2 :]
    if swapped == rid:
        return
    subject = Party(name=name, id_type=IdType.resident_id, id_number=rid)
    assert link(subject, person(name=name, id_number=swapped, birth_date=born)).decision != "match"
