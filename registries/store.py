"""What each registry holds, indexed the way registries search.

Search semantics, shared by every registry (each module's docstring repeats its own field names):
a record is found when its *recorded* id number equals any identifier form sent (compared after
cleaning: full-width forms, spaces and hyphens, case; ignoring the id type: registries key on the
number), or when its recorded name equals the sent name after the folding real registries apply
to a name search (``records.normalise_name``: NFKC, whitespace and the minority-name separator in
any typed form removed, ``〇`` in its typed forms, 有限责任公司 = 有限公司). So homonyms,
differently spelt names, legacy-keyed and organisation-code-keyed records all come back; deciding
which are really the debtor's is linkage's job downstream, not the registry's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from schemas.identifiers import clean_identifier

from .controls import ControlRegister
from .population import Population
from .records import Holding, Household, Owner, normalise_name

__all__ = ["RegistryData", "RegistryStore"]


class _Owned(Protocol):
    owner: Owner


_T = TypeVar("_T", bound=_Owned)


class _OwnerIndex(Generic[_T]):
    def __init__(self, items: Sequence[_T]) -> None:
        self.items = list(items)
        self._by_id: dict[str, list[int]] = defaultdict(list)
        self._by_name: dict[str, list[int]] = defaultdict(list)
        for i, item in enumerate(self.items):
            if item.owner.id_number:
                self._by_id[clean_identifier(item.owner.id_number)].append(i)
            self._by_name[normalise_name(item.owner.name)].append(i)

    def add(self, item: _T) -> None:
        i = len(self.items)
        self.items.append(item)
        if item.owner.id_number:
            self._by_id[clean_identifier(item.owner.id_number)].append(i)
        self._by_name[normalise_name(item.owner.name)].append(i)

    def search(self, id_numbers: Iterable[str], name: str | None) -> list[_T]:
        hits: set[int] = set()
        for number in id_numbers:
            hits.update(self._by_id.get(clean_identifier(number), ()))
        if name and (key := normalise_name(name)):
            hits.update(self._by_name.get(key, ()))
        return [self.items[i] for i in sorted(hits)]  # registry order: stable across pages


class RegistryStore:
    """One registry's records (and, for police, its household registrations) and its control register."""

    def __init__(
        self,
        agency: str,
        holdings: Sequence[Holding],
        households: Sequence[Household] = (),
        register_path: Path | None = None,
        control_prefix: str | None = None,
    ) -> None:
        self.agency = agency
        self._holdings = _OwnerIndex(holdings)
        self._households = _OwnerIndex(households)
        # the registry's own register of controls, seeded lazily from the records' controls and kept
        # in ``register_path`` (SQLite) when given, so a restarted registry keeps its controls;
        # control ids start with ``control_prefix`` (default: the agency name without ``bank:``)
        prefix = control_prefix or agency.removeprefix("bank:").upper()
        self.controls = ControlRegister(self._holdings.items, prefix, register_path)
        self._by_ref: dict[str, Holding] | None = None

    def __len__(self) -> int:
        return len(self._holdings.items) + len(self._households.items)

    def search(self, id_numbers: Iterable[str], name: str | None) -> list[Holding]:
        return self._holdings.search(id_numbers, name)

    def find(self, ref: str) -> Holding | None:
        """The record of the asset ``ref`` (the first, if a registry recorded it twice)."""
        if self._by_ref is None:
            self._by_ref = {}
            for h in self._holdings.items:
                self._by_ref.setdefault(h.ref, h)
        return self._by_ref.get(ref)

    def add(self, holding: Holding) -> None:
        """Hold one more record (planted at run time); searches and controls find it at once."""
        self.find(holding.ref)  # index built before the append, so the append updates it
        self._holdings.add(holding)
        assert self._by_ref is not None
        self._by_ref.setdefault(holding.ref, holding)
        self.controls.added(holding)

    def update_value(self, holding: Holding, value: Decimal) -> None:
        """Change a record's balance or value (a credit, more securities)."""
        self.controls.revalued(holding, value)

    def search_households(self, id_numbers: Iterable[str], name: str | None) -> list[Household]:
        return self._households.search(id_numbers, name)


@dataclass
class RegistryData:
    """Everything every registry holds: the generated population plus planted fixture records."""

    holdings: list[Holding] = field(default_factory=list)
    households: list[Household] = field(default_factory=list)

    @classmethod
    def build(cls, population: Population | None, fixtures: Iterable[Holding] = ()) -> RegistryData:
        holdings = list(population.holdings) if population else []
        holdings.extend(fixtures)
        return cls(holdings, list(population.households) if population else [])

    def store(
        self, agency: str, register_path: Path | None = None, control_prefix: str | None = None
    ) -> RegistryStore:
        """The store of ``agency``; its control register is kept in ``register_path`` when given and
        issues control ids starting with ``control_prefix``."""
        households = self.households if agency == "police" else []
        return RegistryStore(
            agency,
            [h for h in self.holdings if h.registry == agency],
            households,
            register_path,
            control_prefix,
        )
