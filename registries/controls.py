"""Each registry's own register of controls (freezes, seizures) per asset, and the rules it enforces.

The registry is the agency: it decides what a control order did and answers with that. Shared by
every registry module (each one speaks its own API shape over it):

- freeze (deposit, equity) / seize (real estate, land use right, vehicle): the action must fit the
  asset kind. Effective time is when the registry registers it (its clock ``now``); the period is the
  asked ``period_days`` capped at the legal maximum of the kind (``MAX_PERIOD_DAYS``).
- non-deposits: the first control is in effect (position 0); later ones wait (position 1, 2, ...
  in registration order) and have no effective/expiry time until they are promoted.
- deposits: ``available = balance - sum frozen by controls in effect``. A freeze blocks
  ``min(amount, available)``: ``effective``, ``partial`` (the rest is not queued) or, when nothing is
  available, ``waiting`` for the full amount. A freeze never blocks more than asked.
- deduct (deposits): against the court's own freeze in effect, at most its frozen amount; moves
  the money out of the account (balance and frozen amount drop; at 0 the freeze ends as executed).
- renew: only a control in effect whose period has not ended; new expiry = old expiry + period.
- release / expire: end the control; if it was in effect the queue is promoted (non-deposits: the
  first waiting control takes effect now, its own period starting now; deposits: waiting freezes
  in order while money is available, partially if need be). ``expire`` is refused before the
  control's expiry by the registry clock, and repeated it is a no-op.
- idempotency: every decision is remembered by ``order_id``; a repeat returns it unchanged.
- a queue never loses its turn: before a new freeze/seizure is registered, waiting controls that
  could take effect (nothing in effect; or money available on a deposit; only seed data can leave
  that state) are promoted first and reported in that decision's ``promoted``.
- an order naming a reference under which several records are registered (equity: one company's
  credit code for each of its shareholders) is refused unless the order names the owner's identifier
  as recorded (commerce: ``investorCertNo``): otherwise it does not say whose stake.

Controls seeded from the population and fixture lines (other courts') are copied into the
register the first time their asset is touched; the records themselves are never mutated, so two
apps over the same data keep separate registers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import threading
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from .records import Holding

__all__ = [
    "MAX_PERIOD_DAYS",
    "REGISTER_ACTION",
    "ControlRegister",
    "Decision",
    "Order",
    "Promoted",
    "RegControl",
    "UnknownAsset",
]

MAX_PERIOD_DAYS = {
    "deposit": 365,
    "vehicle": 730,
    "real_estate": 1095,
    "land_use_right": 1095,
    "equity": 1095,
}
REGISTER_ACTION = {
    "deposit": "freeze",
    "equity": "freeze",
    "vehicle": "seize",
    "real_estate": "seize",
    "land_use_right": "seize",
}
ZERO = Decimal("0.00")
CENT = Decimal("0.01")


class UnknownAsset(LookupError):
    """No asset with this reference in this registry (the API answers 404)."""


@dataclass(frozen=True, slots=True)
class Order:
    """A control order as the registry understood its own request shape."""

    order_id: str
    action: str
    asset_ref: str
    court: str
    case_id: str | None = None
    case_number: str | None = None
    amount: Decimal | None = None
    control_id: str | None = None
    period_days: int | None = None
    approved_by: str | None = None
    owner_id: str | None = None  # the owner's identifier as recorded, when several records share a ref


@dataclass(slots=True)
class RegControl:
    """One control in the register. ``amount``: frozen now (in effect) or asked (waiting)."""

    control_id: str
    court: str
    action: str
    amount: Decimal | None
    registered_at: dt.datetime | None
    effective_at: dt.datetime | None
    expires_at: dt.datetime | None
    period_days: int
    status: str  # effective | waiting | released | expired | executed
    seq: int
    order_id: str | None = None
    case_id: str | None = None
    case_number: str | None = None
    position: int | None = None
    ended_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Promoted:
    control_id: str
    order_id: str | None
    case_id: str | None
    court: str
    amount: Decimal | None
    effective_at: dt.datetime
    expires_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class Decision:
    """What the registry did with one order (remembered by ``order_id``)."""

    order_id: str
    action: str
    outcome: str  # effective|waiting|partial|rejected|renewed|released|deducted|expired
    decided_at: dt.datetime
    control_id: str | None = None
    position: int | None = None
    amount_controlled: Decimal | None = None
    amount_deducted: Decimal | None = None
    effective_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    reason: str | None = None
    promoted: tuple[Promoted, ...] = ()


@dataclass(slots=True)
class _Asset:
    holding: Holding
    kind: str
    balance: Decimal
    controls: list[RegControl] = field(default_factory=list)

    def active(self, status: str) -> list[RegControl]:
        return sorted((c for c in self.controls if c.status == status), key=lambda c: c.seq)

    def held(self) -> Decimal:
        return sum((c.amount or ZERO for c in self.controls if c.status == "effective"), ZERO)

    def available(self) -> Decimal:
        return max(self.balance - self.held(), ZERO)


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _when(value: dt.datetime | None) -> str:
    return value.isoformat() if value is not None else "?"


class ControlRegister:
    """The controls of one registry's assets. Thread-safe: every command runs under one lock."""

    def __init__(self, holdings: Sequence[Holding], id_prefix: str) -> None:
        self._holdings = holdings
        self._prefix = id_prefix
        self._by_ref: dict[str, list[int]] | None = None
        self._assets: dict[int, _Asset] = {}
        self._decisions: dict[str, Decision] = {}
        self._seq = 0
        self._lock = threading.RLock()

    # ------------------------------------------------------------ reading (inquiries)

    def current(self, holding: Holding) -> tuple[Decimal, list[RegControl]]:
        """The balance (value) and the controls in effect or waiting, in queue order (copies)."""
        with self._lock:
            asset = self._asset(holding)
            live = [c for c in asset.controls if c.status in ("effective", "waiting")]
            live.sort(key=lambda c: (c.position or 0, c.seq))
            return asset.balance, [dataclasses.replace(c) for c in live]

    # ------------------------------------------------------------ commands

    def execute(self, order: Order, now: dt.datetime) -> Decision:
        """Decide ``order``; a repeated ``order_id`` returns the first decision and changes nothing.

        Raises :class:`UnknownAsset` when no asset has ``order.asset_ref``.
        """
        with self._lock:
            if (seen := self._decisions.get(order.order_id)) is not None:
                return seen
            holdings = self._lookup(order.asset_ref)
            if not holdings:
                raise UnknownAsset(order.asset_ref)
            if len(holdings) > 1 and order.owner_id:
                wanted = order.owner_id.strip().upper()
                holdings = [
                    h for h in holdings if (h.owner.id_number or "").strip().upper() == wanted
                ] or holdings
            if len(holdings) > 1:
                decision = self._reject(
                    order,
                    now,
                    f"{len(holdings)} records are registered under {order.asset_ref}; "
                    "the order does not say whose",
                )
            else:
                decision = self._decide(self._asset(holdings[0]), order, now)
            self._decisions[order.order_id] = decision
            return decision

    # ------------------------------------------------------------ internals

    def _lookup(self, ref: str) -> list[Holding]:
        if self._by_ref is None:
            index: dict[str, list[int]] = defaultdict(list)
            for i, h in enumerate(self._holdings):
                index[h.ref].append(i)
            self._by_ref = dict(index)
        return [self._holdings[i] for i in self._by_ref.get(ref, ())]

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _asset(self, holding: Holding) -> _Asset:
        key = id(holding)
        if (asset := self._assets.get(key)) is not None:
            return asset
        asset = _Asset(holding, holding.kind, holding.value)
        period = MAX_PERIOD_DAYS.get(holding.kind, 365)
        seeded = sorted(
            enumerate(holding.controls),
            key=lambda ic: (ic[1].status != "effective", ic[1].position or 0, ic[0]),
        )
        for i, c in seeded:
            effective_at = c.registered_at if c.status == "effective" else None
            expires_at = c.expires_at
            if expires_at is None and effective_at is not None:
                expires_at = effective_at + dt.timedelta(days=period)
            asset.controls.append(
                RegControl(
                    control_id=f"{self._prefix}-S{hashlib.sha1(holding.ref.encode()).hexdigest()[:12].upper()}{i:02d}",
                    court=c.court,
                    action=c.action,
                    amount=c.amount,
                    registered_at=c.registered_at,
                    effective_at=effective_at,
                    expires_at=expires_at if c.status == "effective" else None,
                    period_days=period,
                    status=c.status,
                    seq=self._next_seq(),
                )
            )
        self._renumber(asset)
        self._assets[key] = asset
        return asset

    @staticmethod
    def _renumber(asset: _Asset) -> None:
        for c in asset.controls:
            if c.status == "effective":
                c.position = 0
            elif c.status != "waiting":
                c.position = None
        for n, c in enumerate(asset.active("waiting"), start=1):
            c.position = n

    @staticmethod
    def _reject(order: Order, now: dt.datetime, reason: str, control_id: str | None = None) -> Decision:
        return Decision(
            order.order_id,
            order.action,
            "rejected",
            now,
            control_id=control_id or order.control_id,
            reason=reason,
        )

    def _period(self, order: Order, kind: str) -> tuple[int, str | None]:
        legal = MAX_PERIOD_DAYS[kind]
        if order.period_days is None:
            return legal, f"no period asked: the legal maximum of {legal} days applies"
        if order.period_days > legal:
            return (
                legal,
                f"period {order.period_days} days capped at the legal maximum of {legal} days for {kind}",
            )
        return order.period_days, None

    def _decide(self, asset: _Asset, order: Order, now: dt.datetime) -> Decision:
        kind = asset.kind
        if order.action in ("freeze", "seize"):
            if order.action != REGISTER_ACTION[kind]:
                return self._reject(
                    order,
                    now,
                    f"{order.action} is not a control on {kind}: {kind} takes {REGISTER_ACTION[kind]}",
                )
            if order.period_days is not None and order.period_days < 1:
                return self._reject(order, now, "period_days must be at least 1")
            return (
                self._register_deposit(asset, order, now)
                if kind == "deposit"
                else self._register(asset, order, now)
            )
        if order.action not in ("deduct", "renew", "release", "expire"):
            return self._reject(order, now, f"unknown action {order.action!r}")
        if order.action == "deduct" and kind != "deposit":
            return self._reject(order, now, f"deduct applies to deposits only, not to {kind}")
        control = next((c for c in asset.controls if c.control_id == order.control_id), None)
        if control is None:
            return self._reject(order, now, f"no control {order.control_id} on {asset.holding.ref}")
        if control.court != order.court:
            return self._reject(order, now, f"control {control.control_id} was registered by another court")
        if order.action == "deduct":
            return self._deduct(asset, control, order, now)
        if order.action == "renew":
            return self._renew(asset, control, order, now)
        return self._end(asset, control, order, now)

    def _new_control(self, order: Order, amount: Decimal | None, period: int, now: dt.datetime) -> RegControl:
        return RegControl(
            control_id=f"{self._prefix}-{uuid.uuid4().hex[:16].upper()}",
            court=order.court,
            action=order.action,
            amount=amount,
            registered_at=now,
            effective_at=None,
            expires_at=None,
            period_days=period,
            status="waiting",
            seq=self._next_seq(),
            order_id=order.order_id,
            case_id=order.case_id,
            case_number=order.case_number,
        )

    def _register(self, asset: _Asset, order: Order, now: dt.datetime) -> Decision:
        if order.amount is not None and order.amount <= 0:
            return self._reject(order, now, "amount must be greater than zero")
        if order.case_id is not None:
            same = next(
                (
                    c
                    for c in asset.controls
                    if c.case_id == order.case_id
                    and c.court == order.court
                    and c.status in ("effective", "waiting")
                ),
                None,
            )
            if same is not None:
                return self._reject(
                    order,
                    now,
                    f"already {same.status} for this case as control {same.control_id}",
                    same.control_id,
                )
        period, note = self._period(order, asset.kind)
        ahead = tuple(self._promote(asset, now))  # an earlier queue with nothing in effect goes first
        control = self._new_control(order, order.amount, period, now)
        first = next(iter(asset.active("effective")), None)
        if first is None:
            control.status, control.effective_at = "effective", now
            control.expires_at = now + dt.timedelta(days=period)
        asset.controls.append(control)
        self._renumber(asset)
        if control.status == "effective":
            return Decision(
                order.order_id,
                order.action,
                "effective",
                now,
                control.control_id,
                0,
                amount_controlled=control.amount,
                effective_at=control.effective_at,
                expires_at=control.expires_at,
                reason=note,
                promoted=ahead,
            )
        assert first is not None
        reason = f"waits at position {control.position} behind the control of {first.court}"
        return Decision(
            order.order_id,
            order.action,
            "waiting",
            now,
            control.control_id,
            control.position,
            reason="; ".join(x for x in (reason, note) if x),
            promoted=ahead,
        )

    def _register_deposit(self, asset: _Asset, order: Order, now: dt.datetime) -> Decision:
        if order.amount is None or order.amount <= 0:
            return self._reject(order, now, "a deposit freeze must state an amount greater than zero")
        asked = order.amount.quantize(CENT)
        period, note = self._period(order, asset.kind)
        ahead = tuple(self._promote(asset, now))  # earlier waiting freezes take available money first
        available = asset.available()
        control = self._new_control(order, asked, period, now)
        asset.controls.append(control)
        if available <= 0:
            self._renumber(asset)
            reason = (
                f"nothing available (balance {_money(asset.balance)} fully frozen): "
                f"waits at position {control.position} for the full {_money(asked)}"
            )
            return Decision(
                order.order_id,
                order.action,
                "waiting",
                now,
                control.control_id,
                control.position,
                reason="; ".join(x for x in (reason, note) if x),
                promoted=ahead,
            )
        frozen = min(asked, available)
        control.amount, control.status, control.effective_at = frozen, "effective", now
        control.expires_at = now + dt.timedelta(days=period)
        self._renumber(asset)
        outcome, reason = "effective", ""
        if frozen < asked:
            outcome = "partial"
            reason = (
                f"frozen {_money(frozen)} of {_money(asked)} asked: balance insufficient; "
                "the rest is not queued (order a new freeze for incoming funds)"
            )
        return Decision(
            order.order_id,
            order.action,
            outcome,
            now,
            control.control_id,
            0,
            amount_controlled=frozen,
            effective_at=now,
            expires_at=control.expires_at,
            reason="; ".join(x for x in (reason, note) if x) or None,
            promoted=ahead,
        )

    def _deduct(self, asset: _Asset, control: RegControl, order: Order, now: dt.datetime) -> Decision:
        cid = control.control_id
        if control.status != "effective":
            return self._reject(
                order, now, f"control {cid} is {control.status}: only a freeze in effect can be deducted"
            )
        if control.case_id is not None and order.case_id is not None and control.case_id != order.case_id:
            return self._reject(order, now, f"control {cid} belongs to another case of this court")
        if order.amount is None or order.amount <= 0:
            return self._reject(order, now, "a deduction must state an amount greater than zero")
        amount, frozen = order.amount.quantize(CENT), control.amount or ZERO
        if amount > frozen:
            return self._reject(
                order, now, f"deduct {_money(amount)} exceeds the {_money(frozen)} frozen by {cid}"
            )
        if amount > asset.balance:
            return self._reject(
                order, now, f"deduct {_money(amount)} exceeds the balance {_money(asset.balance)}"
            )
        asset.balance -= amount
        control.amount = frozen - amount
        reason = None
        promoted: list[Promoted] = []
        if control.amount == 0:
            control.status, control.ended_at = "executed", now
            reason = f"freeze {cid} fully executed and ended"
            promoted = self._promote(asset, now)
        self._renumber(asset)
        return Decision(
            order.order_id,
            order.action,
            "deducted",
            now,
            cid,
            control.position,
            amount_controlled=control.amount,
            amount_deducted=amount,
            effective_at=control.effective_at,
            expires_at=control.expires_at,
            reason=reason,
            promoted=tuple(promoted),
        )

    def _renew(self, asset: _Asset, control: RegControl, order: Order, now: dt.datetime) -> Decision:
        cid = control.control_id
        if control.status != "effective":
            return self._reject(
                order, now, f"control {cid} is {control.status}: only a control in effect can be renewed"
            )
        if control.expires_at is not None and now >= control.expires_at:
            return self._reject(
                order,
                now,
                f"control {cid} lapsed at {_when(control.expires_at)}: renew before the period ends",
            )
        if order.period_days is not None and order.period_days < 1:
            return self._reject(order, now, "period_days must be at least 1")
        period, note = self._period(order, asset.kind)
        control.expires_at = (control.expires_at or now) + dt.timedelta(days=period)
        return Decision(
            order.order_id,
            order.action,
            "renewed",
            now,
            cid,
            0,
            amount_controlled=control.amount,
            effective_at=control.effective_at,
            expires_at=control.expires_at,
            reason=note,
        )

    def _end(self, asset: _Asset, control: RegControl, order: Order, now: dt.datetime) -> Decision:
        """release or expire."""
        cid, action = control.control_id, order.action
        done = "released" if action == "release" else "expired"
        if control.status == done:
            return Decision(
                order.order_id,
                action,
                done,
                now,
                cid,
                None,
                effective_at=control.effective_at,
                expires_at=control.expires_at,
                reason=f"already {done} at {_when(control.ended_at)}; nothing changed",
            )
        if control.status not in ("effective", "waiting"):
            return self._reject(
                order, now, f"control {cid} already ended ({control.status} at {_when(control.ended_at)})"
            )
        if action == "expire":
            if control.status == "waiting":
                return self._reject(order, now, f"control {cid} is waiting: its period has not started")
            if control.expires_at is not None and now < control.expires_at:
                return self._reject(
                    order, now, f"control {cid} runs until {_when(control.expires_at)} (registry time)"
                )
        was = control.status
        control.status, control.ended_at = done, now
        promoted = self._promote(asset, now) if was == "effective" else []
        self._renumber(asset)
        return Decision(
            order.order_id,
            action,
            done,
            now,
            cid,
            None,
            amount_controlled=control.amount if was == "effective" else None,
            effective_at=control.effective_at,
            expires_at=control.expires_at,
            reason=None if was == "effective" else "was waiting: left the queue",
            promoted=tuple(promoted),
        )

    def _promote(self, asset: _Asset, now: dt.datetime) -> list[Promoted]:
        out: list[Promoted] = []
        if asset.kind != "deposit":
            if asset.active("effective"):
                return out
            queue = asset.active("waiting")[:1]
        else:
            queue = asset.active("waiting")
        for c in queue:
            if asset.kind == "deposit":
                available = asset.available()
                if available <= 0:
                    break
                c.amount = min(c.amount or ZERO, available)
            c.status, c.effective_at = "effective", now
            c.expires_at = now + dt.timedelta(days=c.period_days)
            out.append(Promoted(c.control_id, c.order_id, c.case_id, c.court, c.amount, now, c.expires_at))
        self._renumber(asset)
        return out
