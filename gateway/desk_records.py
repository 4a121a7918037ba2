"""Linkage confirmations and dead letters: the part of :class:`gateway.db.Database` that the
judges' confirmations and the operations desk read and write (a mixin on its ``engine``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from .tables import asset_confirmations, cases, control_orders, dead_letters, inquiries, utc

__all__ = ["DeskRecords"]


class DeskRecords:
    """Confirmations of linked assets, owners of stored rows, dead letters (``Database`` inherits these)."""

    engine: AsyncEngine

    # ------------------------------------------------------------ linkage confirmations
    async def confirm_asset(
        self, *, case_id: str, asset_id: str, court_id: str, confirmed_by: str, note: str | None
    ) -> dict[str, Any]:
        now = dt.datetime.now(dt.UTC)
        async with self.engine.begin() as conn:
            existing = (
                await conn.execute(
                    sa.select(asset_confirmations).where(
                        asset_confirmations.c.case_id == case_id, asset_confirmations.c.asset_id == asset_id
                    )
                )
            ).first()
            if existing is None:
                await conn.execute(
                    asset_confirmations.insert().values(
                        case_id=case_id,
                        asset_id=asset_id,
                        court_id=court_id,
                        confirmed_by=confirmed_by,
                        note=note,
                        confirmed_at=now,
                    )
                )
                asset = {"asset": _audit.digest(asset_id)}
                await _audit.record(conn, "asset_confirmed", case_id, court_id, confirmed_by, asset)
                return {
                    "case_id": case_id,
                    "asset_id": asset_id,
                    "confirmed_by": confirmed_by,
                    "confirmed_at": now.isoformat(),
                    "note": note,
                }
        return {
            "case_id": case_id,
            "asset_id": asset_id,
            "confirmed_by": existing.confirmed_by,
            "confirmed_at": utc(existing.confirmed_at).isoformat(),
            "note": existing.note,
        }

    async def confirmation(self, case_id: str, asset_id: str) -> sa.Row[Any] | None:
        async with self.engine.connect() as conn:
            return (
                await conn.execute(
                    sa.select(asset_confirmations).where(
                        asset_confirmations.c.case_id == case_id, asset_confirmations.c.asset_id == asset_id
                    )
                )
            ).first()

    # ------------------------------------------------------------ dead letters
    async def owners(self, kind: str, ids: list[str]) -> dict[str, Any]:
        """Who owns the stored rows named by ``ids`` (``kind``: ``inquiry``, ``order`` or ``case``):
        ``{id: row with court_id (and case_id, asset_id where the table has them)}``; one query
        (gateway/producer_checks.py)."""
        table, key = {"inquiry": (inquiries, "inquiry_id"), "order": (control_orders, "order_id")}.get(
            kind, (cases, "case_id")
        )
        if not ids:
            return {}
        wanted = [c for c in ("court_id", "case_id", "asset_id") if c in table.c and c != key]
        query = sa.select(table.c[key], *(table.c[c] for c in wanted))
        query = query.where(table.c[key].in_(sorted(set(ids))))
        async with self.engine.connect() as conn:
            return {getattr(r, key): r for r in (await conn.execute(query)).all()}

    async def add_dead_letter(self, letter: dict[str, Any]) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                dead_letters.insert().values(
                    source_topic=letter["source_topic"],
                    stage=letter["stage"],
                    error_class=letter["error_class"],
                    reason=letter["reason"],
                    body=letter,
                    received_at=dt.datetime.now(dt.UTC),
                )
            )

    async def dead_letter_counts(self) -> list[dict[str, Any]]:
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(
                        dead_letters.c.source_topic,
                        dead_letters.c.stage,
                        sa.func.count(),
                        sa.func.max(dead_letters.c.received_at),
                    ).group_by(dead_letters.c.source_topic, dead_letters.c.stage)
                )
            ).all()
        return [
            {
                "source_topic": r[0],
                "stage": r[1],
                "count": r[2],
                "last_at": utc(r[3]).isoformat() if r[3] else None,
            }
            for r in rows
        ]

    async def recent_dead_letters(self, limit: int = 50) -> list[dict[str, Any]]:
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(dead_letters.c.body).order_by(dead_letters.c.id.desc()).limit(limit)
                )
            ).all()
        return [r.body for r in rows]


# the audit trail imports ``gateway.db``, which imports this module first
from . import audit as _audit  # noqa: E402
