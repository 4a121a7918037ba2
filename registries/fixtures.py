"""Records planted from ``HUB_REGISTRY_FIXTURES`` (JSONL), per ARCHITECTURE.md's fixture format.

One JSON object per line, one registry record as that registry holds it::

    {"registry": "bank:icbc",
     "owner": {"name": "张伟", "id_type": "resident_id", "id_number": "420106750313049"},
     "asset": {"kind": "deposit", "ref": "6222020000000001", "value": "80000.00"},
     "controls": [{"court": "court-x", "action": "freeze", "amount": "20000.00",
                   "registered_at": "2026-01-05T10:00:00+08:00"}]}

Identifiers are not validated (registries hold whatever was recorded). Everything else is: a line
that does not fit is refused with :class:`FixtureError` naming the line number and the reason, so a
typo in a planted record fails at start-up instead of silently planting nothing. Blank lines and
lines starting with ``#`` are skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar, get_args

from pydantic import BaseModel, ValidationError

from hub.errors import ConfigError
from schemas.agencies import ASSET_KIND_BY_AGENCY_TYPE, CONTROL_ACTIONS_BY_KIND, agency_type
from schemas.codec import format_validation_error
from schemas.models import AssetRecord, ExistingControl, RegistryOwner

from .records import Control, Holding, Owner

__all__ = ["FixtureError", "load_fixtures", "parse_fixture_line"]

_M = TypeVar("_M", bound=BaseModel)
# the record model of each asset kind, from the schemas' union of asset records
_MODEL_BY_KIND: dict[str, type[Any]] = {
    m.model_fields["kind"].default: m for m in get_args(get_args(AssetRecord)[0])
}
_TOP_KEYS = {"registry", "owner", "asset", "controls"}
_COMMON_ASSET_KEYS = {"kind", "ref", "value"}


class FixtureError(ConfigError):
    """A fixture line that does not fit the format; ``line`` is 1-based."""

    def __init__(self, line: int, reason: str, path: str | None = None) -> None:
        where = f"{path}:{line}" if path else f"line {line}"
        super().__init__(f"fixture {where}: {reason}")
        self.line = line
        self.reason = reason


def _need_object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be a JSON object")
    return value


def _validated(model: type[_M], data: dict[str, Any], what: str) -> _M:
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise ValueError(f"{what}: {format_validation_error(e)}") from None


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):  # its fields as they are (money stays Decimal)
        return {k: _plain(getattr(value, k)) for k in type(value).model_fields}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _parse(text: str, agencies: set[str] | None) -> Holding:
    try:
        line = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"bad JSON: {e.msg} at column {e.colno}") from None
    line = _need_object(line, "the line")
    if unknown := sorted(set(line) - _TOP_KEYS):
        raise ValueError(f"unknown field(s) {', '.join(unknown)}")
    registry = line.get("registry")
    if not isinstance(registry, str):
        raise ValueError("registry is required (an agency name such as police or bank:icbc)")
    try:
        kind = ASSET_KIND_BY_AGENCY_TYPE[agency_type(registry)]
    except ValueError:
        raise ValueError(f"unknown registry {registry!r}") from None
    if agencies is not None and registry not in agencies:
        raise ValueError(
            f"unknown registry {registry!r}: not configured here ({', '.join(sorted(agencies))})"
        )

    owner_data = _need_object(line.get("owner"), "owner")
    owner = _validated(RegistryOwner, owner_data, "owner")
    if not owner.name.strip():
        raise ValueError("owner.name must not be empty")

    asset = _need_object(line.get("asset"), "asset")
    if asset.get("kind") != kind:
        raise ValueError(f"asset kind {asset.get('kind')!r} is not held by {registry} (it holds {kind})")
    model = _MODEL_BY_KIND[kind]
    extra_keys = set(asset) - _COMMON_ASSET_KEYS
    allowed = set(model.model_fields) - {"agency", "owner", "controls", "kind", "ref", "value"}
    if unknown := sorted(extra_keys - allowed):
        raise ValueError(
            f"asset field(s) {', '.join(unknown)} not known for {kind} (known: {', '.join(sorted(allowed))})"
        )
    if not isinstance(asset.get("ref"), str) or not asset["ref"].strip():
        raise ValueError("asset.ref must be a non-empty string")
    record = _validated(model, {**asset, "agency": registry, "owner": owner_data}, "asset")
    holdings = getattr(record, "holdings", None)
    if holdings:  # a securities account is worth the market value of its holdings
        total = sum((h.market_value for h in holdings), Decimal("0.00"))
        if total != record.value:
            raise ValueError(f"asset.value {record.value:.2f} is not the holdings' market value {total:.2f}")

    controls_data = line.get("controls", [])
    if not isinstance(controls_data, list):
        raise ValueError("controls must be a list")
    controls: list[Control] = []
    for i, c in enumerate(controls_data):
        ctl = _validated(ExistingControl, _need_object(c, f"controls[{i}]"), f"controls[{i}]")
        if ctl.action not in CONTROL_ACTIONS_BY_KIND[kind]:
            raise ValueError(f"controls[{i}].action {ctl.action!r} is not a control on {kind}")
        controls.append(
            Control(
                ctl.court,
                ctl.action,
                ctl.amount,
                ctl.registered_at,
                ctl.expires_at,
                ctl.position if ctl.position is not None else i,
                ctl.status,
            )
        )

    # kind-specific fields as plain values (a securities account's holdings as dicts)
    details = {k: _plain(getattr(record, k)) for k in extra_keys}
    return Holding(
        registry,
        kind,
        asset["ref"],
        record.value,
        Owner(owner.name, owner.id_type, owner.id_number, owner.birth_date, owner.address),
        details,
        controls,
    )


def parse_fixture_line(text: str, line_no: int, *, agencies: Iterable[str] | None = None) -> Holding:
    """One fixture line as a registry record; raises :class:`FixtureError` naming the line."""
    try:
        return _parse(text, set(agencies) if agencies is not None else None)
    except ValueError as e:
        raise FixtureError(line_no, str(e)) from None


def load_fixtures(path: str | Path, *, agencies: Iterable[str] | None = None) -> list[Holding]:
    """Every record of a fixture file; ``agencies`` (when given) are the registries configured here."""
    allowed = set(agencies) if agencies is not None else None
    out: list[Holding] = []
    with open(path, encoding="utf-8") as f:
        for n, text in enumerate(f, start=1):
            if not text.strip() or text.lstrip().startswith("#"):
                continue
            try:
                out.append(_parse(text, allowed))
            except ValueError as e:
                raise FixtureError(n, str(e), str(path)) from None
    return out
