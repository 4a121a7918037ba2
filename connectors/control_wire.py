"""What every adapter's ``execute_control`` shares: the outcome envelope and the refusals of a
command that cannot be sent. Each adapter maps its own registry's request and reply shapes."""

from __future__ import annotations

from typing import Any

from hub.errors import PermanentRegistryError
from hub.masking import mask_text
from schemas.models import ControlCommand, ControlOutcome

from .adapter import AgencyAdapter

__all__ = ["REGISTERING", "check_echo", "control_id_of", "outcome", "unparseable"]

# actions that register a new control; the others act on an existing ``control_id``
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
