"""The rules a registry applies to one asset's controls (see the package docstring for the list).

:class:`Decider` is mixed into :class:`~registries.controls.register.ControlRegister`; every method
works on one :class:`Asset` under the register's lock and returns a :class:`Decision`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from abc import ABC, abstractmethod

from .types import (
    CENT,
    DIVISIBLE,
    MAX_PERIOD_DAYS,
    REGISTER_ACTION,
    ZERO,
    Asset,
    Decision,
    Order,
    Promoted,
    RegControl,
    money,
    when,
)

__all__ = ["Decider"]


def reject(order: Order, now: dt.datetime, reason: str, control_id: str | None = None) -> Decision:
    return Decision(
        order.order_id,
        order.action,
        "rejected",
        now,
        control_id=control_id or order.control_id,
        reason=reason,
    )


def renumber(asset: Asset) -> None:
    """Position 0 for controls in effect, 1.. for waiting ones in registration order, None else."""
    for c in asset.controls:
        if c.status == "effective":
            c.position = 0
        elif c.status != "waiting":
            c.position = None
    for n, c in enumerate(asset.active("waiting"), start=1):
        c.position = n


def _join(*parts: str | None) -> str | None:
    return "; ".join(p for p in parts if p) or None


class Decider(ABC):
    _prefix: str

    @abstractmethod
    def _next_seq(self) -> int:
        """The next registration sequence number (queue order)."""

    @abstractmethod
    def _status(self, asset: Asset, control: RegControl, order: Order, now: dt.datetime) -> Decision:
        """What ``control`` is now (a read)."""

    # ------------------------------------------------------------ dispatch

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

    def _decide(self, asset: Asset, order: Order, now: dt.datetime) -> Decision:
        kind = asset.kind
        if order.action in ("freeze", "seize"):
            if order.action != REGISTER_ACTION[kind]:
                return reject(
                    order,
                    now,
                    f"{order.action} is not a control on {kind}: {kind} takes {REGISTER_ACTION[kind]}",
                )
            if order.period_days is not None and order.period_days < 1:
                return reject(order, now, "period_days must be at least 1")
            if kind in DIVISIBLE:
                return self._register_divisible(asset, order, now)
            return self._register(asset, order, now)
        if order.action not in ("deduct", "renew", "release", "expire", "status"):
            return reject(order, now, f"unknown action {order.action!r}")
        if order.action == "deduct" and kind != "deposit":
            return reject(order, now, f"deduct applies to deposits only, not to {kind}")
        control = next((c for c in asset.controls if c.control_id == order.control_id), None)
        if control is None:
            return reject(order, now, f"no control {order.control_id} on {asset.holding.ref}")
        if control.court != order.court:
            return reject(order, now, f"control {control.control_id} was registered by another court")
        if order.action == "status":
            return self._status(asset, control, order, now)
        if order.action == "deduct":
            return self._deduct(asset, control, order, now)
        if order.action == "renew":
            return self._renew(asset, control, order, now)
        return self._end(asset, control, order, now)

    # ------------------------------------------------------------ registering

    def _new_control(self, order: Order, amount: object, period: int, now: dt.datetime) -> RegControl:
        return RegControl(
            control_id=f"{self._prefix}-{uuid.uuid4().hex[:16].upper()}",
            court=order.court,
            action=order.action,
            amount=amount,  # type: ignore[arg-type]
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

    def _waiting(
        self, asset: Asset, order: Order, control: RegControl, now: dt.datetime, **kw: object
    ) -> Decision:
        return Decision(
            order.order_id,
            order.action,
            "waiting",
            now,
            control.control_id,
            control.position,
            ahead_expires_at=asset.ahead_until(),
            **kw,  # type: ignore[arg-type]
        )

    def _register(self, asset: Asset, order: Order, now: dt.datetime) -> Decision:
        if order.amount is not None and order.amount <= 0:
            return reject(order, now, "amount must be greater than zero")
        amount, what = order.amount, None
        if asset.kind == "equity":
            # an equity freeze freezes subscribed capital (出资额) of the stake: the amount asked, at
            # most the stake's subscribed capital as commerce recorded it; none asked: all of it
            capital = asset.holding.details.get("subscribed_capital")
            if capital is not None and amount is not None and amount > capital:
                return reject(
                    order,
                    now,
                    f"amount {money(amount)} exceeds the stake's subscribed capital {money(capital)}",
                )
            amount = amount if amount is not None else capital
            what = (
                f"{money(amount)} of the stake's subscribed capital {money(capital)} frozen"
                if amount is not None and capital is not None
                else "the whole stake is frozen (no subscribed capital recorded)"
            )
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
                return reject(
                    order,
                    now,
                    f"already {same.status} for this case as control {same.control_id}",
                    same.control_id,
                )
        period, note = self._period(order, asset.kind)
        ahead = tuple(self._promote(asset, now))  # an earlier queue with nothing in effect goes first
        control = self._new_control(order, amount, period, now)
        first = next(iter(asset.active("effective")), None)
        if first is None:
            control.status, control.effective_at = "effective", now
            control.expires_at = now + dt.timedelta(days=period)
        asset.controls.append(control)
        renumber(asset)
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
                reason=_join(what, note),
                promoted=ahead,
            )
        assert first is not None
        reason = (
            f"waits at position {control.position} behind the control of {first.court}, "
            f"which runs until {when(first.expires_at)}"
        )
        return self._waiting(asset, order, control, now, reason=_join(reason, note), promoted=ahead)

    def _register_divisible(self, asset: Asset, order: Order, now: dt.datetime) -> Decision:
        """A freeze of a stated amount of a deposit's balance (or an account's market value)."""
        if order.amount is None or order.amount <= 0:
            return reject(order, now, f"a {asset.kind} freeze must state an amount greater than zero")
        asked = order.amount.quantize(CENT)
        period, note = self._period(order, asset.kind)
        ahead = tuple(self._promote(asset, now))  # earlier waiting freezes take available money first
        available = asset.available()
        control = self._new_control(order, asked, period, now)
        asset.controls.append(control)
        if available <= 0:
            renumber(asset)
            reason = (
                f"nothing available (balance {money(asset.balance)} fully frozen): "
                f"waits at position {control.position} for the full {money(asked)}"
            )
            return self._waiting(asset, order, control, now, reason=_join(reason, note), promoted=ahead)
        frozen = min(asked, available)
        control.amount, control.status, control.effective_at = frozen, "effective", now
        control.expires_at = now + dt.timedelta(days=period)
        renumber(asset)
        outcome, reason = "effective", ""
        if frozen < asked:
            outcome = "partial"
            reason = (
                f"frozen {money(frozen)} of {money(asked)} asked: balance insufficient; "
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
            reason=_join(reason, note),
            promoted=ahead,
        )

    # ------------------------------------------------------------ acting on a control

    def _deduct(self, asset: Asset, control: RegControl, order: Order, now: dt.datetime) -> Decision:
        cid = control.control_id
        if control.status != "effective":
            return reject(
                order, now, f"control {cid} is {control.status}: only a freeze in effect can be deducted"
            )
        if control.case_id is not None and order.case_id is not None and control.case_id != order.case_id:
            return reject(order, now, f"control {cid} belongs to another case of this court")
        if order.amount is None or order.amount <= 0:
            return reject(order, now, "a deduction must state an amount greater than zero")
        amount, frozen = order.amount.quantize(CENT), control.amount or ZERO
        if amount > frozen:
            return reject(order, now, f"deduct {money(amount)} exceeds the {money(frozen)} frozen by {cid}")
        if amount > asset.balance:
            return reject(order, now, f"deduct {money(amount)} exceeds the balance {money(asset.balance)}")
        asset.balance -= amount
        control.amount = frozen - amount
        reason = None
        promoted: list[Promoted] = []
        if control.amount == 0:
            control.status, control.ended_at = "executed", now
            reason = f"freeze {cid} fully executed and ended"
            promoted = self._promote(asset, now)
        renumber(asset)
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

    def _renew(self, asset: Asset, control: RegControl, order: Order, now: dt.datetime) -> Decision:
        """Run on from the old expiry, but never leave more than the legal maximum ahead of ``now``."""
        cid = control.control_id
        if control.lapsed:
            return reject(
                order,
                now,
                f"control {cid} lapsed at {when(control.expires_at)}: renew before the period ends",
            )
        if control.status != "effective":
            return reject(
                order, now, f"control {cid} is {control.status}: only a control in effect can be renewed"
            )
        if order.period_days is not None and order.period_days < 1:
            return reject(order, now, "period_days must be at least 1")
        period, note = self._period(order, asset.kind)
        legal = MAX_PERIOD_DAYS[asset.kind]
        wanted = (control.expires_at or now) + dt.timedelta(days=period)
        limit = now + dt.timedelta(days=legal)
        if wanted > limit:
            note = _join(
                note,
                f"renewal capped: {when(wanted)} would leave more than the legal maximum of {legal} days "
                f"ahead of today; expires at {when(limit)}",
            )
            wanted = limit
        control.expires_at = max(wanted, control.expires_at or wanted)
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

    def _end(self, asset: Asset, control: RegControl, order: Order, now: dt.datetime) -> Decision:
        """release or expire."""
        cid, action = control.control_id, order.action
        done = "released" if action == "release" else "expired"
        if control.status == done:
            reported, control.lapse_promoted = control.lapse_promoted, ()
            how = (
                f"lapsed by itself at the end of its period ({when(control.expires_at)})"
                if control.lapsed
                else f"already {done} at {when(control.ended_at)}; nothing changed"
            )
            return Decision(
                order.order_id,
                action,
                done,
                now,
                cid,
                None,
                effective_at=control.effective_at,
                expires_at=control.expires_at,
                reason=how,
                promoted=reported,
            )
        if control.status not in ("effective", "waiting"):
            return reject(
                order, now, f"control {cid} already ended ({control.status} at {when(control.ended_at)})"
            )
        if action == "expire":
            if control.status == "waiting":
                return reject(order, now, f"control {cid} is waiting: its period has not started")
            if control.expires_at is not None and now < control.expires_at:
                return reject(
                    order, now, f"control {cid} runs until {when(control.expires_at)} (registry time)"
                )
        was = control.status
        control.status, control.ended_at = done, now
        promoted = self._promote(asset, now) if was == "effective" else []
        renumber(asset)
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

    def _promote(self, asset: Asset, at: dt.datetime) -> list[Promoted]:
        """Waiting controls that take effect at ``at`` (whole-asset kinds: the first, when nothing is
        in effect; divisible kinds such as deposits: in order while money is available, partially if
        need be)."""
        out: list[Promoted] = []
        if asset.kind not in DIVISIBLE:
            if asset.active("effective"):
                return out
            queue = asset.active("waiting")[:1]
        else:
            queue = asset.active("waiting")
        for c in queue:
            if asset.kind in DIVISIBLE:
                available = asset.available()
                if available <= 0:
                    break
                c.amount = min(c.amount or ZERO, available)
            c.status, c.effective_at = "effective", at
            c.expires_at = at + dt.timedelta(days=c.period_days)
            out.append(Promoted(c.control_id, c.order_id, c.case_id, c.court, c.amount, at, c.expires_at))
        renumber(asset)
        return out
