"""The register of one registry: its assets' controls, its remembered decisions, its file."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import threading
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from ..records import Holding
from .decide import Decider, reject, renumber
from .persist import RegisterFile
from .types import MAX_PERIOD_DAYS, Asset, Decision, Order, RegControl, UnknownAsset, when

__all__ = ["ControlRegister"]

_STATUS_OUTCOME = {
    "effective": "effective",
    "waiting": "waiting",
    "released": "released",
    "expired": "expired",
    "executed": "deducted",
}


class ControlRegister(Decider):
    """The controls of one registry's assets. Thread-safe: every command runs under one lock.

    ``path``: the SQLite file the register is kept in (:mod:`.persist`); ``None`` keeps it in
    memory only. Every change (an order decided, a control lapsed) is written before it is answered.
    """

    def __init__(self, holdings: Sequence[Holding], id_prefix: str, path: Path | None = None) -> None:
        self._holdings = holdings
        self._prefix = id_prefix
        self._by_ref: dict[str, list[int]] | None = None
        self._index: dict[int, int] | None = None
        self._assets: dict[int, Asset] = {}
        self._decisions: dict[str, Decision] = {}
        self._seq = 0
        self._lock = threading.RLock()
        self._file = RegisterFile(path) if path is not None else None
        self._planted: dict[int, tuple[str, Decimal, list[RegControl]]] = {}
        if self._file is not None:
            self._restore(self._file)

    # ------------------------------------------------------------ reading (inquiries)

    def current(self, holding: Holding, now: dt.datetime) -> tuple[Decimal, list[RegControl]]:
        """The balance (value) and the controls at ``now``: in effect or waiting in queue order,
        then those that lapsed or expired (status ``expired``, with their ``expires_at``). Copies."""
        with self._lock:
            index = self._index_of(holding)
            asset = self._asset(index)
            if self._lapse(asset, now):
                self._save(index, asset, None)
            live = [c for c in asset.controls if c.status in ("effective", "waiting")]
            live.sort(key=lambda c: (c.position or 0, c.seq))
            ended = sorted((c for c in asset.controls if c.status == "expired"), key=lambda c: c.seq)
            return asset.balance, [dataclasses.replace(c) for c in (*live, *ended)]

    def added(self, holding: Holding) -> None:
        """A record appended to the holdings at run time (``POST /_admin/records``)."""
        with self._lock:
            index = len(self._holdings) - 1
            if self._by_ref is not None:
                self._by_ref.setdefault(holding.ref, []).append(index)
            if self._index is not None:
                self._index[id(holding)] = index
            saved = self._planted.pop(index, None)
            if saved is not None and saved[0] == holding.ref:
                self._assets[index] = Asset(holding, holding.kind, saved[1], saved[2])

    def revalued(self, holding: Holding, value: Decimal) -> None:
        """A record's balance (value) changed at the registry (a credit): the register follows."""
        with self._lock:
            holding.value = value
            index = self._index_of(holding)
            if index in self._assets:
                self._assets[index].balance = value
                self._save(index, self._assets[index], None)

    # ------------------------------------------------------------ commands

    def execute(self, order: Order, now: dt.datetime) -> Decision:
        """Decide ``order`` at ``now``; a repeated ``order_id`` returns the first decision and changes
        nothing (``status`` reads are answered afresh and not remembered).

        Controls whose period ended by ``now`` lapse first. Raises :class:`UnknownAsset` when no
        asset has ``order.asset_ref``.
        """
        with self._lock:
            if (seen := self._decisions.get(order.order_id)) is not None:
                return seen
            indices = self._lookup(order.asset_ref)
            if not indices:
                raise UnknownAsset(order.asset_ref)
            if len(indices) > 1 and order.owner_id:
                wanted = order.owner_id.strip().upper()
                indices = [
                    i for i in indices if (self._holdings[i].owner.id_number or "").strip().upper() == wanted
                ] or indices
            if len(indices) > 1:
                decision = reject(
                    order,
                    now,
                    f"{len(indices)} records are registered under {order.asset_ref}; "
                    "the order does not say whose",
                )
                if order.action != "status":
                    self._decisions[order.order_id] = decision
                    self._save(None, None, decision)
                return decision
            asset = self._asset(indices[0])
            lapsed = self._lapse(asset, now)
            decision = self._decide(asset, order, now)
            if order.action == "status":
                if lapsed:
                    self._save(indices[0], asset, None)
                return decision
            self._decisions[order.order_id] = decision
            self._save(indices[0], asset, decision)
            return decision

    def close(self) -> None:
        if self._file is not None:
            self._file.close()

    # ------------------------------------------------------------ internals

    # ------------------------------------------------------------ lapse (DOMAIN.md rule 2a)

    def _lapse(self, asset: Asset, now: dt.datetime) -> bool:
        """End every control whose period ended by ``now``, in order of expiry; each lapse promotes
        the queue at its own instant (the old control's ``expires_at``). True when anything changed."""
        changed = False
        while True:
            due = [
                c
                for c in asset.controls
                if c.status == "effective" and c.expires_at is not None and c.expires_at <= now
            ]
            if not due:
                return changed
            c = min(due, key=lambda x: (x.expires_at, x.seq))
            assert c.expires_at is not None
            c.status, c.ended_at, c.lapsed = "expired", c.expires_at, True
            c.lapse_promoted = tuple(self._promote(asset, c.expires_at))
            renumber(asset)
            changed = True

    def _status(self, asset: Asset, control: RegControl, order: Order, now: dt.datetime) -> Decision:
        """What the control is now (a read: not remembered, changes nothing)."""
        outcome = _STATUS_OUTCOME.get(control.status, control.status)
        if control.status == "waiting":
            ahead = next(iter(asset.active("effective")), None)
            reason = f"waits at position {control.position}" + (
                f" behind the control of {ahead.court}, which runs until {when(ahead.expires_at)}"
                if ahead
                else ""
            )
            return self._waiting(asset, order, control, now, reason=reason)
        reason = {
            "effective": f"in effect since {when(control.effective_at)}",
            "expired": f"lapsed at the end of its period ({when(control.expires_at)})",
        }.get(control.status, f"{control.status} at {when(control.ended_at)}")
        return Decision(
            order.order_id,
            order.action,
            outcome,
            now,
            control.control_id,
            control.position,
            amount_controlled=control.amount if control.status == "effective" else None,
            effective_at=control.effective_at,
            expires_at=control.expires_at,
            reason=reason,
        )

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _lookup(self, ref: str) -> list[int]:
        if self._by_ref is None:
            index: dict[str, list[int]] = defaultdict(list)
            for i, h in enumerate(self._holdings):
                index[h.ref].append(i)
            self._by_ref = dict(index)
        return list(self._by_ref.get(ref, ()))

    def _index_of(self, holding: Holding) -> int:
        if self._index is None:
            self._index = {id(h): i for i, h in enumerate(self._holdings)}
        return self._index[id(holding)]

    def _save(self, index: int | None, asset: Asset | None, decision: Decision | None) -> None:
        if self._file is None:
            return
        if index is None or asset is None:
            if decision is not None:
                self._file.save_decision(decision)
            return
        self._file.save(index, asset.holding.ref, asset.balance, asset.controls, decision)

    def _restore(self, file: RegisterFile) -> None:
        for index, ref, balance, controls in file.assets():
            if index >= len(self._holdings):  # a record planted at run time: restored when re-planted
                self._planted[index] = (ref, balance, controls)
                self._seq = max([self._seq, *(c.seq for c in controls)])
                continue
            if self._holdings[index].ref != ref:
                continue  # another population than the one this file was written for
            holding = self._holdings[index]
            self._assets[index] = Asset(holding, holding.kind, balance, controls)
            self._seq = max([self._seq, *(c.seq for c in controls)])
        self._decisions.update(file.decisions())

    def _asset(self, index: int) -> Asset:
        """The asset's register entry; the first touch copies the record's seeded controls (other
        courts'), each lapsing at its ``expires_at`` or at registration + the legal period."""
        if (asset := self._assets.get(index)) is not None:
            return asset
        holding = self._holdings[index]
        asset = Asset(holding, holding.kind, holding.value)
        period = MAX_PERIOD_DAYS.get(holding.kind, 365)
        seeded = sorted(
            enumerate(holding.controls),
            key=lambda ic: (ic[1].status != "effective", ic[1].position or 0, ic[0]),
        )
        digest = hashlib.sha1(holding.ref.encode()).hexdigest()[:12].upper()
        for i, c in seeded:
            effective_at = c.registered_at if c.status == "effective" else None
            expires_at = c.expires_at
            if expires_at is None and effective_at is not None:
                expires_at = effective_at + dt.timedelta(days=period)
            asset.controls.append(
                RegControl(
                    control_id=f"{self._prefix}-S{digest}{i:02d}",
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
        renumber(asset)
        self._assets[index] = asset
        return asset
