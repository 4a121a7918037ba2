"""Labelled pairs for measuring identity linkage, drawn from the synthetic population's ground truth.

``labelled_pair_kinds(pop, n, seed)`` yields ``n`` pairs (debtor as the court knows them, owner as a
registry recorded them, same entity?, kind of case); ``scripts/eval_linkage.py`` scores the matcher
on them per kind. Deterministic for a population and a seed.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from typing import NamedTuple

from schemas.identifiers import IdType
from schemas.models import Party, RegistryOwner
from schemas.names import SURNAME_EXCEPTIONS, name_variant_key

from . import hard_cases as hc
from .population import Company, Person, Population
from .records import Holding, Household, Owner, normalise_name

__all__ = ["LabelledPair", "labelled_pair_kinds", "labelled_pairs"]


class LabelledPair(NamedTuple):
    debtor: Party
    owner: RegistryOwner
    same: bool
    kind: str  # the hard case (positives) or how the negative was chosen


def _canonical_id(e: Person | Company) -> str:
    return e.resident_id if isinstance(e, Person) else e.uscc


def _as_registry_owner(o: Owner) -> RegistryOwner:
    return RegistryOwner.model_construct(
        name=o.name, id_type=o.id_type, id_number=o.id_number, birth_date=o.birth_date, address=o.address
    )


def labelled_pair_kinds(pop: Population, n: int, seed: int = 0) -> Iterator[LabelledPair]:
    """``n`` labelled pairs, half true and half false, each with the kind of case it is.

    Positives: half clean records, half hard cases (each kind equally often; a record keyed by an
    old business registration number is half the time compared with a debtor the court knows by
    that number: ``known_by_reg_no``). Negatives: homonyms (same name, another person; includes
    people sharing name, birth date and region), near-identical ids (the next identifier in sorted
    order: same region and often birth date), same surname, head office vs branch, the debtor's
    identifier on another entity's record (a sibling's or the group's holding company's name:
    ``same_id_other_name``), a surname that traditional -> simplified conversion would wrongly merge
    (甯海 vs 宁海, same birth date, no identifier: ``distinct_surname``), and easy random others.
    """
    rng = random.Random(seed)
    sources: list[Holding | Household] = [*pop.households, *pop.holdings]
    records = [(h.owner, h.truth_owner, h.anomaly) for h in sources if h.truth_owner]
    by_truth: dict[str, list[int]] = defaultdict(list)
    clean: list[int] = []
    hard: dict[str, list[int]] = defaultdict(list)
    for i, (_, truth, anomaly) in enumerate(records):
        by_truth[truth].append(i)
        (hard[anomaly] if anomaly else clean).append(i)
    hard_kinds = sorted(hard)
    keys = sorted(by_truth)
    by_name: dict[str, list[str]] = defaultdict(list)
    by_surname: dict[str, list[str]] = defaultdict(list)
    for key in keys:
        e = pop.entity(key)
        by_name[normalise_name(e.name)].append(key)
        if isinstance(e, Person):
            by_surname[e.name[0]].append(key)
    homonyms = [ks for ks in by_name.values() if len(ks) > 1]
    ids = sorted((_canonical_id(pop.entity(k)), k) for k in keys)
    branches = [
        (c.parent, c.key) for c in pop.companies if c.parent and c.key in by_truth and c.parent in by_truth
    ]
    parties: dict[str, Party] = {}
    people = [k for k in keys if isinstance(pop.entity(k), Person)]
    heads = [c.key for c in pop.companies if c.key in by_truth and c.parent is None and not c.check_override]
    distinct = [  # surnames t2s would rewrite (甯 -> 宁), not those it leaves alone (沈)
        k
        for k in people
        if (name := pop.entity(k).name)[0] in SURNAME_EXCEPTIONS
        and name_variant_key(name, person=False)[0] != name[0]
    ]

    def party(key: str) -> Party:
        if key not in parties:
            parties[key] = pop.party(key)
        return parties[key]

    def record_of(key: str) -> RegistryOwner:
        return _as_registry_owner(records[rng.choice(by_truth[key])][0])

    def other_entity(a: str) -> RegistryOwner | None:
        """A sibling's (same surname, another given name) or the holding company's record carrying
        ``a``'s identifier."""
        e = pop.entity(a)
        if isinstance(e, Company):
            return RegistryOwner.model_construct(
                name=hc.holding_name(e.name), id_type=IdType.uscc, id_number=e.uscc
            )
        sibling = pop.entity(rng.choice(by_surname[e.name[0]]))
        if normalise_name(sibling.name) == normalise_name(e.name):
            return None
        return RegistryOwner.model_construct(
            name=sibling.name, id_type=IdType.resident_id, id_number=e.resident_id
        )

    def special_negative() -> tuple[Party, RegistryOwner, str] | None:
        u = rng.random()
        if u < 0.5:
            a = rng.choice(people) if rng.random() < 0.5 or not heads else rng.choice(heads)
            owner = other_entity(a)
            return (party(a), owner, "same_id_other_name") if owner else None
        if distinct:
            e = pop.entity(rng.choice(distinct))
            assert isinstance(e, Person)
            merged = name_variant_key(e.name, person=False)  # the surname converted as t2s would
            owner = RegistryOwner.model_construct(name=merged, birth_date=e.birth_date)
            return party(e.key), owner, "distinct_surname"
        return None

    def negative() -> tuple[str, str, str]:
        u = rng.random()
        if u < 0.35 and homonyms:
            a, b = rng.sample(rng.choice(homonyms), 2)
            return a, b, "homonym"
        if u < 0.55:
            i = rng.randrange(len(ids) - 1)
            a, b = ids[i][1], ids[i + 1][1]
            return (a, b, "near_id") if rng.random() < 0.5 else (b, a, "near_id")
        if u < 0.7:
            a = rng.choice(keys)
            group = by_surname.get(pop.entity(a).name[0], [])
            if len(group) > 1:
                b = rng.choice(group)
                if b != a:
                    return a, b, "same_surname"
        if u < 0.75 and branches:
            head, branch = rng.choice(branches)
            return (head, branch, "branch") if rng.random() < 0.5 else (branch, head, "branch")
        a, b = rng.sample(keys, 2)
        return a, b, "random"

    for _ in range(n):
        if rng.random() < 0.5:
            pool = hard[rng.choice(hard_kinds)] if hard_kinds and rng.random() < 0.5 else clean
            owner, truth, anomaly = records[rng.choice(pool)]
            debtor, kind = party(truth), anomaly or "clean"
            if anomaly == "business_reg_no" and rng.random() < 0.5:  # the court knows the old number
                debtor = Party(name=debtor.name, id_type=IdType.business_reg_no, id_number=owner.id_number)
                kind = "known_by_reg_no"
            yield LabelledPair(debtor, _as_registry_owner(owner), True, kind)
        elif rng.random() < 0.1 and (special := special_negative()) is not None:
            yield LabelledPair(special[0], special[1], False, special[2])
        else:
            a, b, kind = negative()
            yield LabelledPair(party(a), record_of(b), False, kind)


def labelled_pairs(pop: Population, n: int, seed: int = 0) -> Iterator[tuple[Party, RegistryOwner, bool]]:
    """(debtor as the court knows them, owner as a registry recorded them, is the same entity)."""
    for pair in labelled_pair_kinds(pop, n, seed):
        yield pair.debtor, pair.owner, pair.same
