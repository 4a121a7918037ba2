"""A registry's register on disk: one SQLite file per registry (standard-library ``sqlite3``).

Two tables, written on every change and read once at start:

- ``assets(key TEXT PRIMARY KEY, ref TEXT, balance TEXT, controls TEXT)``: ``key`` is the record's
  index among the registry's holdings and its ``ref`` (a row whose ref no longer matches the
  holdings at that index is ignored, so a regenerated population does not inherit strangers'
  controls); ``controls`` is a JSON list of :class:`RegControl`.
- ``decisions(order_id TEXT PRIMARY KEY, body TEXT)``: every remembered :class:`Decision` (JSON),
  so an order repeated after a restart still gets its first answer.

Money is stored as decimal strings, times as ISO 8601 with offset. Callers hold the register's lock;
the connection is opened with ``check_same_thread=False`` for that reason.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

from .types import Decision, Promoted, RegControl

__all__ = ["RegisterFile"]

_TIMES = {"registered_at", "effective_at", "expires_at", "ended_at", "decided_at", "ahead_expires_at"}
_MONEY = {"amount", "amount_controlled", "amount_deducted"}


def _dump(obj: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        v = getattr(obj, f.name)
        if isinstance(v, Decimal):
            v = str(v)
        elif isinstance(v, dt.datetime):
            v = v.isoformat()
        elif isinstance(v, tuple):
            v = [_dump(p) for p in v]
        out[f.name] = v
    return out


def _load(cls: type, data: dict[str, Any]) -> Any:
    known = {f.name for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for k, v in data.items():
        if k not in known:
            continue
        if v is not None and k in _TIMES:
            v = dt.datetime.fromisoformat(v)
        elif v is not None and k in _MONEY:
            v = Decimal(v)
        elif k in ("promoted", "lapse_promoted"):
            v = tuple(_load(Promoted, p) for p in v)
        values[k] = v
    return cls(**values)


class RegisterFile:
    """The SQLite file of one register (created with its tables when missing)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS assets "
            "(key TEXT PRIMARY KEY, ref TEXT NOT NULL, balance TEXT NOT NULL, controls TEXT NOT NULL)"
        )
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS decisions (order_id TEXT PRIMARY KEY, body TEXT NOT NULL)"
        )

    def assets(self) -> list[tuple[int, str, Decimal, list[RegControl]]]:
        """Every stored asset: (holding index, ref, balance, controls)."""
        rows = self._db.execute("SELECT key, ref, balance, controls FROM assets").fetchall()
        return [
            (int(key), ref, Decimal(balance), [_load(RegControl, c) for c in json.loads(controls)])
            for key, ref, balance, controls in rows
        ]

    def decisions(self) -> dict[str, Decision]:
        rows = self._db.execute("SELECT order_id, body FROM decisions").fetchall()
        return {order_id: _load(Decision, json.loads(body)) for order_id, body in rows}

    def save(
        self, index: int, ref: str, balance: Decimal, controls: list[RegControl], decision: Decision | None
    ) -> None:
        """Store one asset's state (and the decision that changed it) in one transaction."""
        body = json.dumps([_dump(c) for c in controls], ensure_ascii=False)
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute(
                "INSERT INTO assets (key, ref, balance, controls) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET ref = excluded.ref, balance = excluded.balance, "
                "controls = excluded.controls",
                (str(index), ref, str(balance), body),
            )
            if decision is not None:
                self._db.execute(
                    "INSERT OR REPLACE INTO decisions (order_id, body) VALUES (?, ?)",
                    (decision.order_id, json.dumps(_dump(decision), ensure_ascii=False)),
                )

    def save_decision(self, decision: Decision) -> None:
        """Store a decision that changed no asset (a refusal before any asset was chosen)."""
        self._db.execute(
            "INSERT OR REPLACE INTO decisions (order_id, body) VALUES (?, ?)",
            (decision.order_id, json.dumps(_dump(decision), ensure_ascii=False)),
        )

    def close(self) -> None:
        self._db.close()
