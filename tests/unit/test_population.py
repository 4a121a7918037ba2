"""The synthetic population: deterministic, fast, hard cases at their stated rates, ground truth kept."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

from registries.labelled import labelled_pair_kinds, labelled_pairs
from registries.population import (
    LEGACY_ID_REGISTRIES,
    RATES,
    Company,
    Person,
    Population,
    generate,
    pick_people,
)
from registries.records import Holding, Household, normalise_name
from schemas.identifiers import (
    CheckCharacterError,
    IdentifierError,
    canonical_business_reg_no,
    canonical_identifier,
    canonical_resident_id,
    canonical_uscc,
    clean_identifier,
    is_placeholder,
    legacy_resident_id,
)
from schemas.names import normalize_name

SCALE = 20_000


@pytest.fixture(scope="module")
def pop() -> Population:
    return generate(11, SCALE)


def test_same_seed_same_population() -> None:
    a, b = generate(5, 500), generate(5, 500)
    assert a.people == b.people and a.companies == b.companies
    assert a.holdings == b.holdings and a.households == b.households
    assert generate(6, 500).people != a.people


def test_population_has_the_requested_size() -> None:
    pop = generate(1, 2000)
    assert len(pop.people) == 2000 and len(pop.companies) == 200


def test_people_and_companies_carry_valid_identifiers(pop: Population) -> None:
    assert len(pop.people) == SCALE and len(pop.companies) == SCALE // 10
    for p in pop.people[:2000]:
        assert canonical_resident_id(p.resident_id) == p.resident_id
        assert p.resident_id[6:14] == f"{p.birth_date:%Y%m%d}"
    for c in pop.companies:
        if c.check_override is None:
            assert canonical_uscc(c.uscc) == c.uscc
        else:  # issued before 2016 with a check character that does not fit
            with pytest.raises(CheckCharacterError):
                canonical_uscc(c.uscc)
            assert canonical_identifier("uscc", c.uscc, check=False) == c.uscc
        if c.business_reg_no is not None:
            assert canonical_business_reg_no(c.business_reg_no) == c.business_reg_no
        assert c.name.endswith(("有限公司", "有限责任公司", "股份有限公司", "分公司"))
    assert len({p.resident_id for p in pop.people}) == SCALE


def test_common_names_collide_as_homonyms(pop: Population) -> None:
    names = Counter(p.name for p in pop.people)
    top = [name for name, _ in names.most_common(10)]
    assert all(len(n) == 2 for n in top[:5])
    assert names["张伟"] + names["王伟"] >= 20
    zhang_wei = [p for p in pop.people if p.name == "张伟"]
    assert len({p.resident_id for p in zhang_wei}) == len(zhang_wei)
    assert len({p.birth_date for p in zhang_wei}) > 1


def test_companies_have_branches_and_shareholders(pop: Population) -> None:
    branches = [c for c in pop.companies if c.parent]
    assert len(branches) > 0.04 * len(pop.companies)
    for b in branches:
        parent = pop.entity(b.parent or "")
        assert b.name.startswith(parent.name) and b.name.endswith("分公司")
        assert b.uscc != parent.uscc  # type: ignore[union-attr]
    heads = [c for c in pop.companies if not c.parent]
    assert all(sum(bp for _, bp in c.shareholders) == 10000 for c in heads)


def test_every_record_has_ground_truth(pop: Population) -> None:
    keys = {p.key for p in pop.people} | {c.key for c in pop.companies}
    assert all(h.truth_owner in keys for h in pop.holdings)
    assert all(h.truth_owner in keys for h in pop.households)
    kinds = Counter(h.registry for h in pop.holdings)
    every = {"police", "commerce", "real_estate", "land", "securities", "bank:icbc", "bank:ccb", "bank:boc"}
    assert every <= set(kinds)
    assert len(pop.households) == SCALE


Record = Holding | Household


def _records(pop: Population) -> list[Record]:
    return [*pop.holdings, *pop.households]


def _rate(records: list[Record], anomaly: str) -> float:
    return sum(r.anomaly == anomaly for r in records) / len(records)


def _registry(r: Record) -> str:
    return r.registry if isinstance(r, Holding) else "police"


def test_legacy_ids_at_stated_rate_and_only_for_the_1900s(pop: Population) -> None:
    people = {p.key: p for p in pop.people}
    eligible = [
        r
        for r in _records(pop)
        if _registry(r) in LEGACY_ID_REGISTRIES
        and r.truth_owner in people
        and people[r.truth_owner].birth_date.year < 2000
    ]
    assert abs(_rate(eligible, "legacy_id") - RATES["legacy_id"]) < 0.01
    for r in _records(pop):
        if r.anomaly == "legacy_id":
            assert _registry(r) in LEGACY_ID_REGISTRIES
            assert len(r.owner.id_number or "") == 15
            assert legacy_resident_id(r.owner.id_number or "") == people[r.truth_owner or ""].resident_id


def test_org_codes_keyed_company_records(pop: Population) -> None:
    companies = {c.key: c for c in pop.companies}
    company_records: list[Record] = [h for h in pop.holdings if h.truth_owner in companies]
    assert abs(_rate(company_records, "org_code") - RATES["org_code"]) < 0.012
    hyphenated: Counter[bool] = Counter()
    for r in company_records:
        if r.anomaly == "org_code":
            org = companies[r.truth_owner or ""].uscc[8:17]
            assert r.owner.id_type == "org_code" and (r.owner.id_number or "").replace("-", "") == org
            hyphenated["-" in (r.owner.id_number or "")] += 1
    assert hyphenated[True] and hyphenated[False]
    registries = {_registry(r) for r in company_records if r.anomaly == "org_code"}
    assert "commerce" in registries and any(r.startswith("bank:") for r in registries)


def _canonical(e: Person | Company) -> str:
    return e.resident_id if isinstance(e, Person) else e.uscc


def test_name_forms_transpositions_and_suffix_variants(pop: Population) -> None:
    records = _records(pop)
    assert abs(_rate(records, "name_form") - RATES["name_form"]) < 0.008
    assert abs(_rate(records, "transposed_id") - RATES["transposed_id"]) < 0.003
    folded = 0
    for r in records:
        truth = pop.entity(r.truth_owner or "")
        if r.anomaly == "name_form":
            assert r.owner.name != truth.name
            folded += normalise_name(r.owner.name) == truth.name
        if r.anomaly == "transposed_id":
            number = r.owner.id_number or ""
            diff = [i for i, (a, b) in enumerate(zip(number, _canonical(truth), strict=True)) if a != b]
            assert len(diff) == 2 and diff[1] == diff[0] + 1
        if r.anomaly == "suffix_variant":
            assert {r.owner.name[-6:], truth.name[-6:]} & {"有限责任公司"}
    assert folded, "some name forms are folded by the registries' NFKC + whitespace normalisation"
    assert any(h.anomaly == "suffix_variant" for h in pop.holdings)


def test_some_assets_carry_other_courts_controls(pop: Population) -> None:
    controlled = [h for h in pop.holdings if h.controls]
    assert 0.03 < len(controlled) / len(pop.holdings) < 0.07
    waiting = [c for h in controlled for c in h.controls if c.status == "waiting"]
    assert waiting and all(c.position == 1 for c in waiting)
    for h in controlled:
        if h.kind == "deposit":
            assert all(c.amount is not None and c.amount <= max(h.value, Decimal("1.00")) for c in h.controls)


def test_pick_people_owns_something(pop: Population) -> None:
    chosen = pick_people(pop, 50, seed=3)
    assert len({p.key for p in chosen}) == 50
    owners = {h.truth_owner for h in pop.holdings}
    assert all(p.key in owners for p in chosen)
    assert pick_people(pop, 50, seed=3) == chosen


def test_labelled_pairs_are_balanced_and_cover_every_case(pop: Population) -> None:
    pairs = list(labelled_pair_kinds(pop, 20_000, seed=2))
    positives = [p for p in pairs if p.same]
    assert 0.47 < len(positives) / len(pairs) < 0.53
    assert {
        "clean",
        "legacy_id",
        "org_code",
        "name_form",
        "transposed_id",
        "suffix_variant",
        *HARD_KINDS,
        "known_by_reg_no",
    } <= {p.kind for p in positives}
    assert {
        "homonym",
        "near_id",
        "same_surname",
        "branch",
        "random",
        "same_id_other_name",
        "distinct_surname",
    } <= {p.kind for p in pairs if not p.same}
    for p in pairs[:3000]:
        debtor_key = p.debtor.id_number
        if not p.same and p.kind != "same_id_other_name":
            assert p.owner.id_number != debtor_key
        if p.kind == "same_id_other_name":
            assert p.owner.id_number == debtor_key
            assert normalize_name(p.owner.name) != normalize_name(p.debtor.name)
        if p.kind == "distinct_surname":
            assert p.owner.name[1:] == p.debtor.name[1:] and p.owner.name[0] != p.debtor.name[0]
        if p.kind == "known_by_reg_no":
            assert (p.debtor.id_type, p.debtor.id_number) == ("business_reg_no", p.owner.id_number)
        if p.kind == "clean":
            assert (p.owner.name, p.owner.id_number) == (p.debtor.name, debtor_key)
        if p.kind == "legacy_id":
            assert legacy_resident_id(p.owner.id_number or "") == debtor_key
    homonyms = [p for p in pairs if p.kind == "homonym"]
    same_name = sum(normalise_name(p.debtor.name) == normalise_name(p.owner.name) for p in homonyms)
    assert same_name > 0.9 * len(homonyms)  # the rest are recorded in another name form


HARD_KINDS = (
    "minority_separator",
    "minority_no_id",
    "ling_form",
    "missing_id",
    "suffix_no_id",
    "placeholder_id",
    "id_spelling",
    "business_reg_no",
    "unchecked_code",
)


def test_every_hard_kind_of_the_issue_is_planted_as_it_says(pop: Population) -> None:
    """Each kind is present, and each record is spoilt exactly the way its kind says."""
    seen: Counter[str] = Counter()
    for r in _records(pop):
        if r.anomaly not in HARD_KINDS:
            continue
        seen[r.anomaly] += 1
        truth = pop.entity(r.truth_owner or "")
        name, number = r.owner.name, r.owner.id_number
        if r.anomaly in ("minority_separator", "minority_no_id"):
            assert "·" in truth.name and name != truth.name
            assert normalize_name(name) == normalize_name(truth.name)
        if r.anomaly == "ling_form":
            assert "〇" in truth.name and "〇" not in name
            assert normalize_name(name) == normalize_name(truth.name)
        if r.anomaly in ("missing_id", "minority_no_id", "suffix_no_id"):
            assert number is None and r.owner.id_type is None
        if r.anomaly == "suffix_no_id":
            assert name != truth.name and normalise_name(name) == normalise_name(truth.name)
        if r.anomaly == "placeholder_id":
            assert number is not None and is_placeholder(number)
        if r.anomaly == "id_spelling":
            assert number != _canonical(truth) and clean_identifier(number or "") == _canonical(truth)
        if r.anomaly == "business_reg_no":
            assert isinstance(truth, Company) and number == truth.business_reg_no
            assert r.owner.id_type == "business_reg_no"
        if r.anomaly == "unchecked_code":
            assert isinstance(truth, Company) and truth.check_override and number == truth.uscc
    assert set(seen) == set(HARD_KINDS), seen
    minority = [r for r in _records(pop) if "·" in pop.entity(r.truth_owner or "").name]
    assert 0.2 < sum(r.anomaly == "minority_separator" for r in minority) / len(minority) < 0.4


def test_transposed_resident_ids_always_fail_the_check(pop: Population) -> None:
    """Adjacent weights differ mod 11, so the clerk's slip is detectable; the registry keeps it anyway."""
    slips = [h for h in pop.holdings if h.anomaly == "transposed_id" and h.owner.id_type == "resident_id"]
    assert slips
    for h in slips:
        with pytest.raises(IdentifierError):
            canonical_resident_id(h.owner.id_number or "")


def test_labelled_pairs_stream_deterministically(pop: Population) -> None:
    assert sum(1 for _ in labelled_pairs(pop, 100_000, seed=4)) == 100_000
    first = list(labelled_pairs(pop, 50, seed=9))
    assert first == list(labelled_pairs(pop, 50, seed=9))
    assert all(isinstance(same, bool) for _, _, same in first)
