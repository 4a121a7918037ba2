"""What every adapter's ``execute_control`` shares: sending the command and reading the reply
(:func:`send_control`), the outcome envelope and the refusals of a command that cannot be sent.
Each adapter declares its own registry's request body, path and reply shape (:class:`ReplyFields`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from hub.errors import PermanentRegistryError
from hub.masking import mask_text
from schemas.models import ControlCommand, ControlOutcome, PromotedControl

from .adapter import AgencyAdapter

__all__ = [
    "REGISTERING",
    "ReplyFields",
    "check_echo",
    "control_id_of",
    "outcome",
    "outcome_from_reply",
    "send_control",
    "unparseable",
]

# actions that register a new control; the others act on an existing ``control_id`` (``status``
# only reads it: the registry answers what the control is now, e.g. ``effective`` once promoted)
REGISTERING = ("freeze", "seize")


def control_id_of(adapter: AgencyAdapter, command: ControlCommand) -> str:
    """The control a renew/release/deduct/expire acts on; a command without one is never sendable."""
    if not command.control_id:
        raise PermanentRegistryError(adapter.agency, f"{command.action} needs the control_id it acts on")
    return command.control_id


def check_echo(command: ControlCommand, echoed: Any) -> None:
    """The registry answers for the order it was sent, or the reply is not ours."""
    if echoed != command.order_id:
        raise ValueError(f"reply is for order {echoed!r}, not {command.order_id!r}")


def outcome(adapter: AgencyAdapter, command: ControlCommand, **fields: Any) -> ControlOutcome:
    """A :class:`ControlOutcome` for ``command`` with what the registry answered in ``fields``."""
    return ControlOutcome(
        order_id=command.order_id,
        case_id=command.case_id,
        court_id=command.court_id,
        agency=adapter.agency,
        asset_ref=command.asset_ref,
        action=command.action,
        idempotency_key=command.idempotency_key,
        **fields,
    )


def unparseable(adapter: AgencyAdapter, e: Exception) -> PermanentRegistryError:
    return PermanentRegistryError(adapter.agency, f"unparseable control reply: {mask_text(str(e))[:300]}")


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class ReplyFields:
    """Where one registry's control reply keeps each part of the outcome. Each control the reply
    says it promoted uses the same keys (plus ``order_id``, ``case_id``, ``court``)."""

    outcome: Callable[[Mapping[str, Any]], str]
    control_id: str
    order_id: str
    case_id: str
    court: str
    position: str
    amount_controlled: str
    amount_deducted: str
    effective_at: str
    expires_at: str
    reason: str
    promoted: str
    decided_at: str
    money: Callable[[Any], Any] = _same  # the registry's amount -> yuan
    ahead_expires_at: str | None = None  # waiting: when the control ahead ends (None: not given)


def outcome_from_reply(
    adapter: AgencyAdapter, command: ControlCommand, reply: Mapping[str, Any], f: ReplyFields
) -> ControlOutcome:
    """Map a registry's control reply to a :class:`ControlOutcome` (a missing key raises KeyError)."""
    return outcome(
        adapter,
        command,
        outcome=f.outcome(reply),
        control_id=reply.get(f.control_id),
        position=reply.get(f.position),
        amount_controlled=f.money(reply.get(f.amount_controlled)),
        amount_deducted=f.money(reply.get(f.amount_deducted)),
        effective_at=reply.get(f.effective_at),
        expires_at=reply.get(f.expires_at),
        reason=reply.get(f.reason),
        ahead_expires_at=reply.get(f.ahead_expires_at) if f.ahead_expires_at else None,
        promoted=[
            PromotedControl(
                control_id=p[f.control_id],
                order_id=p.get(f.order_id),
                case_id=p.get(f.case_id),
                court=p[f.court],
                amount_controlled=f.money(p.get(f.amount_controlled)),
                effective_at=p[f.effective_at],
                expires_at=p.get(f.expires_at),
            )
            for p in reply.get(f.promoted) or []
        ],
        decided_at=reply[f.decided_at],
    )


async def send_control(
    adapter: AgencyAdapter,
    client: httpx.AsyncClient,
    command: ControlCommand,
    path: str,
    reply_fields: ReplyFields,
    *,
    method: str = "POST",
    json: Mapping[str, Any] | None = None,
    data: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    unwrap: Callable[[Any], Mapping[str, Any]] | None = None,
) -> ControlOutcome:
    """Send one control command to the registry and map its reply.

    ``json`` or ``data`` (form-encoded) is the request body; ``headers`` default to the adapter's
    ``auth_headers()``. ``unwrap`` takes the parsed JSON reply to the mapping that holds the
    outcome (checking the registry's success flag, raising ValueError with the registry's error
    otherwise). The reply must echo the order id under ``reply_fields.order_id``.

    Raises what ``classify_response`` raises for an HTTP failure, and PermanentRegistryError for a
    reply that does not parse or is for another order.
    """
    response = await client.request(
        method,
        adapter.url(path),
        json=json,
        data=data,
        headers=dict(headers) if headers is not None else adapter.auth_headers(),
    )
    adapter.classify_response(response)
    try:
        reply = response.json()
        r = unwrap(reply) if unwrap is not None else reply
        check_echo(command, r[reply_fields.order_id])
        return outcome_from_reply(adapter, command, r, reply_fields)
    except (ValueError, KeyError, TypeError, ArithmeticError) as e:
        raise unparseable(adapter, e) from e
