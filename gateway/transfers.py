"""First seizure and priority creditors (DOMAIN rule 7, SPC reply 法释〔2016〕6号): the records, the
rules and the deadline loop. The routes are ``gateway/routes/transfers.py``.

**The first seizure** of an asset is the hub's control order on it that is in effect at the head
of the agency's queue (status ``effective`` or ``partial``, ``position`` 0, a ``seize`` or
``freeze``); its ``effective_at`` is when the agency registered it. A court whose order waits
behind it (status ``waiting``) and states ``priority_claim`` (a mortgage, say; recorded in
``priority_claims`` when the order is accepted) may ask for transfer once
``HUB_TRANSFER_DISPOSAL_DAYS`` have passed since ``effective_at`` and the first court has not
recorded the start of disposal (``disposals``, one row per first order). The first court answers
within ``HUB_TRANSFER_ANSWER_DAYS`` of the request (``transfer_requests``; at most one open request
per waiting order: ``open_key`` is the order id while open, null after, under a unique constraint).

The deadline loop that reports to both courts is ``gateway/transfer_deadlines.py``.

Every event goes to the case of the court's own order, in its feed and to its signed webhook
(``gateway.feed.record_case_event``), under the key ``<type>:<id>:<first|priority>``. ``data``:
``{"role": "first" | "priority", "order_id": the court's own order, "asset_id", "ref", ...}`` plus,
for request events, the request as :func:`request_view` shows it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.settings import HubSettings

from . import audit, feed
from .db import control_orders, metadata
from .tables import utc as _utc

__all__ = [
    "FIRST_STATUSES",
    "announce_disposal",
    "audit_both",
    "disposal_due_at",
    "disposal_view",
    "disposals",
    "first_seizure",
    "is_first",
    "notify_both",
    "order_ref",
    "order_transfers",
    "priority_claims",
    "register_claim",
    "request_view",
    "sides",
    "transfer_requests",
]

DAY = dt.timedelta(days=1)
FIRST_STATUSES = ("effective", "partial")

# the first seizure of an asset is looked up by asset (every transfer check and the loop)
sa.Index("ix_control_orders_asset_id", control_orders.c.asset_id)

priority_claims = sa.Table(
    "priority_claims",
    metadata,
    sa.Column("order_id", sa.String(64), primary_key=True),
    sa.Column("court_id", sa.String(64), nullable=False),
    sa.Column("case_id", sa.String(64), nullable=False),
    sa.Column("asset_id", sa.String(300), nullable=False, index=True),
    sa.Column("claim", sa.JSON, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("window_order_id", sa.String(64)),  # the first order disposal_deadline_passed named
    sa.Column("window_at", sa.DateTime(timezone=True)),
)

transfer_requests = sa.Table(
    "transfer_requests",
    metadata,
    sa.Column("request_id", sa.String(64), primary_key=True),
    sa.Column("court_id", sa.String(64), nullable=False),  # the asking (priority) court
    sa.Column("case_id", sa.String(64), nullable=False, index=True),
    sa.Column("order_id", sa.String(64), nullable=False, index=True),  # its waiting order
    sa.Column("first_court_id", sa.String(64), nullable=False),
    sa.Column("first_case_id", sa.String(64), nullable=False, index=True),
    sa.Column("first_order_id", sa.String(64), nullable=False, index=True),
    sa.Column("asset_id", sa.String(300), nullable=False),
    sa.Column("asset_ref", sa.String(300)),
    sa.Column("priority_claim", sa.JSON, nullable=False),
    sa.Column("officer", sa.String(100), nullable=False),
    sa.Column("approved_by", sa.String(100), nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("status", sa.String(16), nullable=False, index=True),  # open | accepted | refused
    sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("answer_due_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("open_key", sa.String(64)),  # the waiting order's id while open: one open request each
    sa.Column("decision", sa.String(16)),
    sa.Column("reason", sa.Text),
    sa.Column("answered_at", sa.DateTime(timezone=True)),
    sa.Column("answer_officer", sa.String(100)),
    sa.Column("answer_approved_by", sa.String(100)),
    sa.Column("overdue_at", sa.DateTime(timezone=True)),
    sa.Column("idempotency_key", sa.String(200)),
    sa.Column("request_hash", sa.String(64)),
    sa.UniqueConstraint("open_key", name="uq_transfer_requests_open"),
    sa.UniqueConstraint("court_id", "idempotency_key", name="uq_transfer_requests_idempotency"),
)

disposals = sa.Table(
    "disposals",
    metadata,
    sa.Column("order_id", sa.String(64), primary_key=True),  # the first court's order
    sa.Column("court_id", sa.String(64), nullable=False),
    sa.Column("case_id", sa.String(64), nullable=False),
    sa.Column("asset_id", sa.String(300), nullable=False),
    sa.Column("method", sa.String(16), nullable=False),
    sa.Column("reference", sa.String(300)),
    sa.Column("officer", sa.String(100), nullable=False),
    sa.Column("approved_by", sa.String(100), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("request_hash", sa.String(64), nullable=False),
)


def _iso(value: dt.datetime | None) -> str | None:
    return _utc(value).isoformat() if value is not None else None


def order_ref(order: Any) -> str | None:
    """The registry's reference of an order's asset, as the order's command carried it."""
    asset = ((order.request or {}).get("command") or {}).get("asset") or {}
    return asset.get("ref")


def is_first(order: Any) -> bool:
    """Whether ``order`` (a ``control_orders`` row) is a first seizure: in effect at the head of the
    queue, a seizure or a freeze."""
    state = order.state or {}
    action = state.get("action", (order.request or {}).get("action"))
    return order.status in FIRST_STATUSES and state.get("position") == 0 and action in ("seize", "freeze")


def effective_at(order: Any) -> dt.datetime | None:
    raw = (order.state or {}).get("effective_at")
    return _utc(dt.datetime.fromisoformat(raw)) if raw else None


def disposal_due_at(first: Any, settings: HubSettings) -> dt.datetime | None:
    """``effective_at`` of the first order plus ``HUB_TRANSFER_DISPOSAL_DAYS`` (None: not known)."""
    start = effective_at(first)
    return None if start is None else start + settings.transfer_disposal_days * DAY


async def first_seizure(conn: AsyncConnection, asset_id: str) -> Any | None:
    """The hub's first seizure of ``asset_id`` (a ``control_orders`` row), or None."""
    rows = (
        await conn.execute(
            sa.select(control_orders).where(
                control_orders.c.asset_id == asset_id, control_orders.c.status.in_(FIRST_STATUSES)
            )
        )
    ).all()
    firsts = [r for r in rows if is_first(r) and effective_at(r) is not None]
    return min(firsts, key=lambda r: (effective_at(r), r.order_id)) if firsts else None


async def register_claim(
    conn: AsyncConnection, *, order_id: str, court_id: str, case_id: str, asset_id: str, claim: dict[str, Any]
) -> None:
    """Record the ``priority_claim`` an accepted control order states (in its transaction)."""
    await conn.execute(
        priority_claims.insert().values(
            order_id=order_id,
            court_id=court_id,
            case_id=case_id,
            asset_id=asset_id,
            claim=claim,
            created_at=dt.datetime.now(dt.UTC),
        )
    )


def request_view(row: Any) -> dict[str, Any]:
    """A ``transfer_requests`` row as ``schemas.transfers.TransferRequestView``."""
    answer = None
    if row.decision is not None:
        answer = {
            "decision": row.decision,
            "reason": row.reason,
            "answered_at": _iso(row.answered_at),
            "on_time": _utc(row.answered_at) <= _utc(row.answer_due_at),
        }
    return {
        "request_id": row.request_id,
        "status": row.status,
        "asset_id": row.asset_id,
        "ref": row.asset_ref,
        "first": {"court_id": row.first_court_id, "order_id": row.first_order_id},
        "priority": {"court_id": row.court_id, "order_id": row.order_id},
        "priority_claim": row.priority_claim,
        "note": row.note,
        "requested_at": _iso(row.requested_at),
        "answer_due_at": _iso(row.answer_due_at),
        "overdue_at": _iso(row.overdue_at),
        "answer": answer,
    }


def disposal_view(row: Any) -> dict[str, Any]:
    """A ``disposals`` row as ``schemas.transfers.DisposalView``."""
    return {
        "order_id": row.order_id,
        "asset_id": row.asset_id,
        "method": row.method,
        "reference": row.reference,
        "started_at": _iso(row.started_at),
    }


async def notify_both(
    conn: AsyncConnection,
    settings: HubSettings,
    type: str,
    key: str,
    first: tuple[str, str, str],
    priority: tuple[str, str, str],
    data: dict[str, Any],
) -> None:
    """Record event ``type`` for the first and the priority court (each ``(court_id, case_id,
    order_id)``) in ``conn``'s transaction, keys ``<key>:first`` and ``<key>:priority``, each pushed
    to the court's webhook when it has one."""
    for role, (court_id, case_id, order_id) in (("first", first), ("priority", priority)):
        await feed.record_case_event(
            conn,
            case_id,
            court_id,
            type,
            {"role": role, "order_id": order_id, **data},
            key=f"{key}:{role}",
            webhook_url=settings.webhooks_by_court.get(court_id),
        )


async def audit_both(
    conn: AsyncConnection, kind: str, sides: Sequence[tuple[str, str]], actor: str, details: dict[str, Any]
) -> None:
    """One audit entry per court concerned (``(court_id, case_id)`` each): each court's case keeps
    its own trail."""
    for court_id, case_id in sides:
        await audit.record(conn, kind, case_id, court_id, actor, details)


async def announce_disposal(
    conn: AsyncConnection, settings: HubSettings, order: Any, view: dict[str, Any]
) -> list[tuple[str, str]]:
    """Record ``disposal_started`` (in ``conn``'s transaction) for the first court and every other
    court whose order stating ``priority_claim`` waits on the asset; returns their ``(court_id,
    case_id)``, the first court's first."""
    waiting = (
        await conn.execute(
            sa.select(priority_claims)
            .join(control_orders, control_orders.c.order_id == priority_claims.c.order_id)
            .where(
                priority_claims.c.asset_id == order.asset_id,
                priority_claims.c.court_id != order.court_id,
                control_orders.c.status == "waiting",
            )
            .order_by(priority_claims.c.created_at)
        )
    ).all()
    data = {"asset_id": order.asset_id, "ref": order_ref(order), "disposal": view}
    data["first"] = {"court_id": order.court_id, "order_id": order.order_id}
    sides = [(order.court_id, order.case_id, order.order_id, "first")]
    sides += [(c.court_id, c.case_id, c.order_id, "priority") for c in waiting]
    for to_court, to_case, to_order, role in sides:
        await feed.record_case_event(
            conn,
            to_case,
            to_court,
            "disposal_started",
            {"role": role, "order_id": to_order, **data},
            key=f"disposal_started:{order.order_id}:{to_order}",
            webhook_url=settings.webhooks_by_court.get(to_court),
        )
    return list(dict.fromkeys((court, case) for court, case, _, _ in sides))


def sides(row: Any) -> tuple[tuple[str, str, str], tuple[str, str, str]]:
    return (row.first_court_id, row.first_case_id, row.first_order_id), (
        row.court_id,
        row.case_id,
        row.order_id,
    )


async def order_transfers(
    conn: AsyncConnection, order: Any, claim: Any | None, settings: HubSettings
) -> dict[str, Any]:
    """An order (a ``control_orders`` row; ``claim`` its ``priority_claims`` row or None) as
    ``schemas.transfers.OrderTransfersView``: its role, the first seizure of its asset with the
    disposal deadline and the disposal, and the requests it made or received, oldest first."""
    first = order if is_first(order) else await first_seizure(conn, order.asset_id)
    seizure = None
    if first is not None and (due := disposal_due_at(first, settings)) is not None:
        query = sa.select(disposals).where(disposals.c.order_id == first.order_id)
        disposal = (await conn.execute(query)).first()
        seizure = {
            "court_id": first.court_id,
            "order_id": first.order_id,
            "effective_at": _iso(effective_at(first)),
            "disposal_due_at": due.isoformat(),
            "disposal": None if disposal is None else disposal_view(disposal),
        }
    mine = sa.or_(
        transfer_requests.c.order_id == order.order_id, transfer_requests.c.first_order_id == order.order_id
    )
    rows = (
        await conn.execute(
            sa.select(transfer_requests)
            .where(mine)
            .order_by(transfer_requests.c.requested_at, transfer_requests.c.request_id)
        )
    ).all()
    if is_first(order):
        role = "first"
    else:
        role = "priority" if claim is not None and order.status == "waiting" else "none"
    return {
        "order_id": order.order_id,
        "role": role,
        "priority_claim": None if claim is None else claim.claim,
        "first_seizure": seizure,
        "items": [request_view(r) for r in rows],
    }
