"""Where one registry's inquiry records keep the owner and the controls already registered.

Each adapter declares its registry's keys once (:class:`OwnerFields`, :class:`ControlFields`) and
maps a record with :func:`registry_owner` and :func:`existing_controls`; what differs between
registries is then data, not code. A missing required key raises KeyError, which the adapter
reports as an unparseable reply.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from schemas.models import ExistingControl, RegistryOwner

__all__ = ["ControlFields", "OwnerFields", "existing_controls", "registry_owner"]


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class OwnerFields:
    """Keys of the owner as the registry recorded them; ``id_types`` maps the registry's own
    identifier-type codes to the hub's ``IdType`` names (an unknown code is passed on as it is,
    and linkage then treats it as unknown)."""

    name: str
    id_type: str
    id_number: str
    id_types: Mapping[str | None, str]


@dataclass(frozen=True)
class ControlFields:
    """Keys of one control already registered on an asset (``amount`` None: the registry states
    none; ``money`` converts the registry's amount to yuan)."""

    control_id: str
    court: str
    action: str
    status: str
    registered_at: str
    expires_at: str
    position: str
    amount: str | None = None
    money: Callable[[Any], Any] = _same


def registry_owner(row: Mapping[str, Any], f: OwnerFields) -> RegistryOwner:
    """The owner of a record (``name`` required; type and number may be missing)."""
    code = row.get(f.id_type)
    return RegistryOwner(name=row[f.name], id_type=f.id_types.get(code, code), id_number=row.get(f.id_number))


def existing_controls(rows: Iterable[Mapping[str, Any]] | None, f: ControlFields) -> list[ExistingControl]:
    """The controls of a record (``rows`` None or empty: none)."""
    return [
        ExistingControl(
            control_id=x.get(f.control_id),
            court=x[f.court],
            action=x[f.action],
            amount=f.money(x.get(f.amount)) if f.amount else None,
            registered_at=x.get(f.registered_at),
            expires_at=x.get(f.expires_at),
            position=x.get(f.position),
            status=x[f.status],
        )
        for x in rows or []
    ]
