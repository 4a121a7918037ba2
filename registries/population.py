"""A deterministic synthetic population for the mocked registries, with its ground truth.

``generate(seed, scale)`` draws ``scale`` people and about ``scale / 10`` companies, then every
asset each registry holds about them. The same seed and scale always give the same population
(one ``random.Random``, drawn in a fixed order; no clock is read).

Why it looks the way it does: linkage must be tested against what registries really hold.

- Names follow the real skew (王/李/张 ≈ 7 % each, 伟/芳/娜 common given names; the tables are in
  ``registries.population_tables``), so 张伟 and 王伟
  collide: homonyms with different ids and birth dates. Some people even share name, birth date
  and region with another (only the sequence digits differ): the hardest negatives there are.
- Every registry record keeps the owner *as that registry recorded them*. At most one hard case per
  record, at these rates (``RATES``; how each is written: ``registries.hard_cases``): a legacy
  15-digit id (police, real estate and land; only for people born 1900-1999), an organisation code
  in place of the credit code (company-owned records outside police, with or without the hyphen),
  a name form the court would not type (inserted space, full-width letters, ``()`` for ``（）``;
  for minority names the separator typed otherwise or left out: ``minority_separator``; ``〇``
  typed ``○ O 0 零``: ``ling_form``), an id with two adjacent characters transposed (clerk error),
  有限公司 written for 有限责任公司 or back, no identifier at all (``missing_id``; for minority
  names with another separator too: ``minority_no_id``; for companies with the other legal-form
  spelling: ``suffix_no_id``), a placeholder identifier (all zeros or ones), an identifier typed
  with full-width digits, spaces or hyphens (``id_spelling``), and for companies registered before
  2016 their old 15-digit business registration number (``business_reg_no``).
- A few companies hold a credit code really issued before 2016 that fails its check character
  (``Company.check_override`` says so; a court registers them with that override): every record of
  theirs carries it (``unchecked_code``).
- Branches (分公司) have their own credit code and a name that contains the head office's name.
- Some assets already carry controls by other courts, some with a waiting court behind.
- About one person in six and one company in twenty holds a securities account (the depository's
  一码通 number) with a few A-share positions; drawn after everything else from a random stream of
  their own, so the other registries' records do not depend on them.

The ground truth (``Holding.truth_owner``) lives only here; no registry API returns it.
``registries.labelled`` turns it into (debtor as the court knows them, owner as recorded, same?)
pairs for training and measuring identity linkage.
"""

from __future__ import annotations

import datetime as dt
import gc
import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from schemas.identifiers import IdType, org_code_check, resident_id_check, uscc_check
from schemas.models import Party

from . import hard_cases as hc
from .population_assets import AssetDrawer
from .population_entities import AS_OF, Company, Person, draw
from .population_tables import (
    CAPITALS,
    COMMON_GIVEN,
    COMMON_GIVEN_CUM,
    GIVEN_CHARS,
    INDUSTRIES,
    MINORITY_FATHER,
    MINORITY_GIVEN,
    REGION_CUM,
    REGIONS,
    ROADS,
    SUFFIX_CUM,
    SUFFIXES,
    SURNAME_CUM,
    SURNAMES,
    URUMQI,
    USCC_BODY,
    ZIHAO,
    Region,
)
from .records import Holding, Household, Owner

__all__ = [
    "AS_OF",
    "DEFAULT_BANKS",
    "LEGACY_ID_REGISTRIES",
    "RATES",
    "Company",
    "Person",
    "Population",
    "generate",
    "pick_people",
]

DEFAULT_BANKS = ("icbc", "ccb", "boc")
LEGACY_ID_REGISTRIES = frozenset({"police", "real_estate", "land"})

# Probability of each hard case per record (given the record is eligible for it).
RATES = {
    "transposed_id": 0.005,
    "name_form": 0.03,
    "legacy_id": 0.03,
    "org_code": 0.03,
    "suffix_variant": 0.03,
    "missing_id": 0.01,
    "placeholder_id": 0.003,
    "id_spelling": 0.01,
    "business_reg_no": 0.03,  # of the records of companies registered before 2016
}
_CLONE_RATE = 0.005  # people sharing name, birth date and region with an earlier person
_LING_RATE = 0.003  # people with 〇 in their name
_UNCHECKED_RATE = 0.005  # companies whose issued credit code fails its check character
_SPECIAL_NAME_FORM_RATE = 0.3  # records of names with a separator or 〇 written another way
UNCHECKED_REASON = "issued before 2016 with a check character that GB 32100 does not give"
_BRANCH_RATE = 0.08
_MINORITY_RATE = 0.01


@dataclass
class Population:
    """The generated people, companies and every registry's records, with ground truth."""

    seed: int
    scale: int
    bank_codes: tuple[str, ...]
    people: list[Person]
    companies: list[Company]
    holdings: list[Holding]
    households: list[Household]
    _by_key: dict[str, Person | Company] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_key = {p.key: p for p in self.people} | {c.key: c for c in self.companies}

    def entity(self, key: str) -> Person | Company:
        return self._by_key[key]

    def party(self, key: str) -> Party:
        """The entity as a court knows it: canonical name and identifier."""
        e = self._by_key[key]
        if isinstance(e, Person):
            return Party(name=e.name, id_type=IdType.resident_id, id_number=e.resident_id)
        return Party(name=e.name, id_type=IdType.uscc, id_number=e.uscc, check_override=e.check_override)


def _name_kind(name: str) -> str:
    """The anomaly a name form of this name is: the separator, 〇, or other writing noise."""
    if "·" in name:
        return "minority_separator"
    return "ling_form" if "〇" in name else "name_form"


class _Generator(AssetDrawer):
    """Draws everything from one ``random.Random`` in a fixed order (hence deterministic)."""

    def __init__(self, seed: int, bank_codes: Sequence[str]) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.banks = tuple(bank_codes)
        self.holdings: list[Holding] = []
        self.households: list[Household] = []
        self._ids: set[str] = set()
        self._plates: set[str] = set()
        self._serial = itertools.count(1)

    # ------------------------------------------------------------ people and companies

    def people(self, n: int) -> list[Person]:
        rng = self.rng
        surnames = rng.choices(SURNAMES, cum_weights=SURNAME_CUM, k=n)
        regions = rng.choices(REGIONS, cum_weights=REGION_CUM, k=n)
        first = dt.date(1940, 1, 1).toordinal()
        span = dt.date(2006, 12, 31).toordinal() - first
        out: list[Person] = []
        for i in range(n):
            u = rng.random()
            if out and u < _CLONE_RATE:  # same name, birth date and region as someone else
                twin = out[rng.randrange(len(out))]
                name, born, region = twin.name, twin.birth_date, twin.region
            elif u < _CLONE_RATE + _MINORITY_RATE:
                name = f"{rng.choice(MINORITY_GIVEN)}·{rng.choice(MINORITY_FATHER)}"
                born, region = dt.date.fromordinal(first + rng.randrange(span)), URUMQI
            elif u < _CLONE_RATE + _MINORITY_RATE + _LING_RATE:
                given = rng.choice(GIVEN_CHARS)
                name = surnames[i] + ("〇" + given if rng.random() < 0.5 else given + "〇")
                born, region = dt.date.fromordinal(first + rng.randrange(span)), regions[i]
            else:
                name = surnames[i] + self._given_name()
                born, region = dt.date.fromordinal(first + rng.randrange(span)), regions[i]
            out.append(
                Person(
                    f"P{i:07d}",
                    name,
                    self._resident_id(region.code, born),
                    born,
                    region,
                    self._address(region),
                )
            )
        return out

    def _given_name(self) -> str:
        rng = self.rng
        u = rng.random()
        if u < 0.35:
            return COMMON_GIVEN[draw(rng, COMMON_GIVEN_CUM)]
        if u < 0.55:
            return rng.choice(GIVEN_CHARS)
        return rng.choice(GIVEN_CHARS) + rng.choice(GIVEN_CHARS)

    def _resident_id(self, region: str, born: dt.date) -> str:
        while True:
            first17 = f"{region}{born:%Y%m%d}{self.rng.randrange(1000):03d}"
            rid = first17 + resident_id_check(first17)
            if rid not in self._ids:
                self._ids.add(rid)
                return rid

    def _address(self, region: Region) -> str:
        r = self.rng
        return (
            f"{region.province}{region.city if region.city != region.province else ''}{region.district}"
            f"{self._street()}{r.randint(1, 6)}单元{r.randint(101, 3204)}室"
        )

    def _street(self) -> str:
        r = self.rng
        return f"{r.choice(ROADS)}{r.randint(1, 999)}号{r.randint(1, 30)}栋"

    def companies(self, n: int, people: list[Person]) -> list[Company]:
        rng = self.rng
        out: list[Company] = []
        names: set[str] = set()
        for i in range(n):
            region = REGIONS[draw(rng, REGION_CUM)]
            heads = [c for c in out[-50:] if c.parent is None]
            if heads and rng.random() < _BRANCH_RATE:
                parent = rng.choice(heads)
                name, parent_key = f"{parent.name}{region.district.removesuffix('区')}分公司", parent.key
            else:
                name, parent_key = self._company_name(region), None
            if name in names:  # registration refuses a duplicate name; the applicant picks another
                name, parent_key = self._company_name(region), None
            names.add(name)
            capital = rng.choice(CAPITALS)
            code, check_override = self._uscc(region.code), None
            if rng.random() < _UNCHECKED_RATE:
                code, check_override = hc.unchecked_code(rng, region.code), UNCHECKED_REASON
            company = Company(f"C{i:06d}", name, code, region, self._address(region), capital, parent_key)
            company.check_override = check_override
            if code[8:10] != "MA":  # organisation codes before MA: registered before 2016
                company.business_reg_no = hc.business_reg_no(rng, region.code)
            if parent_key is None:
                company.shareholders = self._shareholders(people, out)
            out.append(company)
        return out

    def _company_name(self, region: Region) -> str:
        rng = self.rng
        city = region.city.removesuffix("市")
        trade = rng.choice(ZIHAO) + rng.choice(ZIHAO)
        industry = rng.choice(INDUSTRIES)
        suffix = SUFFIXES[draw(rng, SUFFIX_CUM)]
        u = rng.random()
        if u < 0.25:
            return f"{trade}{industry}（{city}）{suffix}"
        if u < 0.33:
            return f"{city}{''.join(rng.choices('ABCDEFGHKMNPRSTX', k=rng.randint(2, 3)))}{industry}{suffix}"
        return f"{city}{trade}{industry}{suffix}"

    def _uscc(self, region: str) -> str:
        rng = self.rng
        while True:
            body = (
                "MA" + "".join(rng.choices(USCC_BODY, k=6))
                if rng.random() < 0.4
                else f"{rng.randrange(10**8):08d}"
            )
            first17 = f"91{region}{body}{org_code_check(body)}"
            code = first17 + uscc_check(first17)
            if code not in self._ids:
                self._ids.add(code)
                return code

    def _shareholders(self, people: list[Person], companies: list[Company]) -> list[tuple[str, int]]:
        rng = self.rng
        k = 1 + draw(rng, (35, 70, 90, 100))
        cuts = sorted(rng.sample(range(1, 100), k - 1))
        shares = [(b - a) * 100 for a, b in zip([0, *cuts], [*cuts, 100], strict=True)]
        holders: list[tuple[str, int]] = []
        for bp in shares:
            heads = [c for c in companies[-30:] if c.parent is None]
            key = rng.choice(heads).key if heads and rng.random() < 0.1 else rng.choice(people).key
            if all(key != h for h, _ in holders):
                holders.append((key, bp))
            elif holders:  # drew the same holder twice: it simply holds more
                holders[-1] = (holders[-1][0], holders[-1][1] + bp)
        return holders

    # ------------------------------------------------------------ owners as recorded

    def _person_owner(self, p: Person, registry: str) -> tuple[Owner, str | None]:
        rng = self.rng
        u = rng.random()
        name, number, anomaly = p.name, p.resident_id, None
        special = "·" in name or "〇" in name  # registries write these names otherwise far more often
        t1 = RATES["transposed_id"]
        t2 = t1 + (_SPECIAL_NAME_FORM_RATE if special else RATES["name_form"])
        t3 = t2 + RATES["legacy_id"]
        t4 = t3 + RATES["missing_id"]
        t5 = t4 + RATES["placeholder_id"]
        t6 = t5 + RATES["id_spelling"]
        number_or_none: str | None = number
        if u < t1:
            number_or_none, anomaly = hc.transpose(rng, number, 16), "transposed_id"
        elif u < t2:
            name, anomaly = hc.name_form(rng, name), _name_kind(name)
        elif u < t3:
            if registry in LEGACY_ID_REGISTRIES and 1900 <= p.birth_date.year <= 1999:
                number_or_none, anomaly = number[:6] + number[8:17], "legacy_id"
        elif u < t4:
            number_or_none, anomaly = None, "missing_id"
            if "·" in name:
                name, anomaly = hc.separator_form(rng, name), "minority_no_id"
        elif u < t5:
            number_or_none, anomaly = hc.placeholder(rng, 18), "placeholder_id"
        elif u < t6:
            number_or_none, anomaly = hc.id_spelling(rng, number), "id_spelling"
        id_type = IdType.resident_id if number_or_none is not None else None
        if registry == "police":
            return Owner(name, id_type, number_or_none, p.birth_date, p.address), anomaly
        return Owner(name, id_type, number_or_none), anomaly

    def _company_owner(self, c: Company, registry: str) -> tuple[Owner, str | None]:
        rng = self.rng
        u = rng.random()
        name, id_type, anomaly = c.name, IdType.uscc, None
        number: str | None = c.uscc
        if c.check_override is not None:  # its issued code, exactly as issued, everywhere
            return Owner(name, id_type, number), "unchecked_code"
        t1 = RATES["transposed_id"]
        t2 = t1 + RATES["name_form"]
        t3 = t2 + RATES["org_code"]
        t4 = t3 + RATES["suffix_variant"]
        t5 = t4 + RATES["missing_id"]
        t6 = t5 + RATES["placeholder_id"]
        t7 = t6 + RATES["id_spelling"]
        t8 = t7 + RATES["business_reg_no"]
        if u < t1:
            number, anomaly = hc.transpose(rng, c.uscc, 17), "transposed_id"
        elif u < t2:
            name, anomaly = hc.name_form(rng, name), "name_form"
        elif u < t3 and registry != "police":
            org = c.uscc[8:17]
            number = org if rng.random() < 0.5 else f"{org[:8]}-{org[8]}"
            id_type, anomaly = IdType.org_code, "org_code"
        elif u < t4 and (swapped := hc.suffix_variant(name)) != name:
            name, anomaly = swapped, "suffix_variant"
        elif t4 <= u < t5:
            swapped = hc.suffix_variant(name)
            number, anomaly = None, ("suffix_no_id" if swapped != name else "missing_id")
            name = swapped
        elif t5 <= u < t6:
            number, anomaly = hc.placeholder(rng, 18), "placeholder_id"
        elif t6 <= u < t7:
            number, anomaly = hc.id_spelling(rng, c.uscc), "id_spelling"
        elif t7 <= u < t8 and c.business_reg_no is not None:
            id_type, number, anomaly = IdType.business_reg_no, c.business_reg_no, "business_reg_no"
        return Owner(name, id_type if number is not None else None, number), anomaly


def generate(seed: int, scale: int, *, bank_codes: Sequence[str] = DEFAULT_BANKS) -> Population:
    """Generate ``scale`` people, about ``scale / 10`` companies and all their registry records."""
    if scale < 1:
        raise ValueError("scale must be at least 1")
    if not bank_codes:
        raise ValueError("at least one bank code is required")
    g = _Generator(seed, bank_codes)
    # Hundreds of thousands of long-lived objects and no cycles: cyclic GC passes only cost time.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        people = g.people(scale)
        companies = g.companies(max(1, scale // 10), people)
        by_key: dict[str, Person | Company] = {p.key: p for p in people} | {c.key: c for c in companies}
        for p in people:
            g.person_assets(p)
        for c in companies:
            g.company_assets(c, by_key)
        g.securities_accounts(people, companies)
    finally:
        if gc_was_enabled:
            gc.enable()
    return Population(seed, scale, tuple(bank_codes), people, companies, g.holdings, g.households)


def pick_people(pop: Population, n: int, *, seed: int = 0, with_assets: bool = True) -> list[Person]:
    """``n`` distinct people (deterministic for a seed), by default only people who own something."""
    owners = {h.truth_owner for h in pop.holdings} if with_assets else None
    pool = [p for p in pop.people if owners is None or p.key in owners]
    return random.Random(seed).sample(pool, min(n, len(pool)))
