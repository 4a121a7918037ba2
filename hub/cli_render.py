"""What the court commands of the CLI print: language, time and the rich tables.

Language: ``--lang``, else ``LC_ALL``, ``LC_MESSAGES`` or ``LANG`` (``zh_CN.UTF-8`` → ``zh-CN``), else
English; messages come from the ``cli`` domain of :mod:`hub.i18n` (``hub/locales/cli_zh_cn.py``).
Times: RFC 3339 with their offset, in Asia/Shanghai (the courts' time zone).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from rich.table import Table

from .client import Batch, CaseDetail, CaseSummary, ControlOrder, Event, Inquiry
from .i18n import DEFAULT_LANGUAGE, gettext, negotiate

__all__ = [
    "SHANGHAI",
    "Texts",
    "batch_table",
    "case_table",
    "cases_table",
    "event_line",
    "events_table",
    "inquiry_tables",
    "language",
    "order_table",
    "rfc3339",
]

SHANGHAI = ZoneInfo("Asia/Shanghai")


def language(option: str | None = None, environ: dict[str, str] | None = None) -> str:
    """The CLI's language: ``option`` (``--lang``), else the POSIX locale variables in their order
    of precedence (``LC_ALL``, ``LC_MESSAGES``, ``LANG``); ``C``/``POSIX`` and unknown → English."""
    env = os.environ if environ is None else environ
    raw = option or env.get("LC_ALL") or env.get("LC_MESSAGES") or env.get("LANG") or ""
    tag = raw.split(".")[0].split("@")[0].replace("_", "-")
    if tag in ("", "C", "POSIX"):
        return DEFAULT_LANGUAGE
    return negotiate(tag)


class Texts:
    """``texts("case {case_id} registered", case_id=...)``: the CLI message in one language."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def __call__(self, template: str, /, **params: Any) -> str:
        return gettext(template, self.lang, "cli", **params)


def rfc3339(value: dt.datetime | str | None) -> str:
    """``2026-03-01T17:30:00+08:00``: RFC 3339 with its offset, in Asia/Shanghai; "–" for none."""
    if value is None:
        return "–"
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    if value.tzinfo is None:  # the hub stores UTC
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(SHANGHAI).isoformat(timespec="seconds")


def _money(value: Decimal | str | None) -> str:
    return "–" if value is None else f"{Decimal(value):,.2f}"


def _table(title: str, columns: Iterable[tuple[str, str]]) -> Table:
    table = Table(title=title)
    for name, justify in columns:
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    return table


def cases_table(cases: list[CaseSummary], t: Texts) -> Table:
    table = _table(
        t("Cases"),
        [
            (t("case id"), "left"),
            (t("case number"), "left"),
            (t("status"), "left"),
            (t("debtors"), "left"),
            (t("amount owed"), "right"),
            (t("registered at"), "left"),
        ],
    )
    for c in cases:
        debtors = ", ".join(str(d.get("name", "")) for d in c.debtors)
        table.add_row(
            c.case_id, c.case_number, c.status, debtors, _money(c.amount_owed), rfc3339(c.created_at)
        )
    return table


def case_table(case: CaseDetail, t: Texts) -> Table:
    table = _table(t("Case {case_id}", case_id=case.case_id), [(t("field"), "left"), (t("value"), "left")])
    table.add_row(t("case number"), case.case_number)
    table.add_row(t("status"), case.status)
    table.add_row(t("debtors"), ", ".join(str(d.get("name", "")) for d in case.debtors))
    table.add_row(t("amount owed"), _money(case.amount_owed))
    table.add_row(t("costs"), _money(case.costs))
    table.add_row(t("registered at"), rfc3339(case.created_at))
    table.add_row(t("inquiries"), str(len(case.inquiries)))
    table.add_row(t("assets found"), str(len(case.assets)))
    table.add_row(t("controls"), str(len(case.controls)))
    return table


def inquiry_tables(inquiry: Inquiry, t: Texts) -> list[Table]:
    agencies = _table(
        t("Inquiry {inquiry_id}: {status}", inquiry_id=inquiry.inquiry_id, status=inquiry.status),
        [(t("agency"), "left"), (t("status"), "left"), (t("assets"), "right"), (t("detail"), "left")],
    )
    for name, result in inquiry.agencies.items():
        agencies.add_row(name, result.status, str(result.assets), result.detail or "")
    assets = _table(
        t("Assets found"),
        [
            (t("asset id"), "left"),
            (t("kind"), "left"),
            (t("value"), "right"),
            (t("linkage"), "left"),
            (t("controls"), "right"),
        ],
    )
    for a in inquiry.assets:
        assets.add_row(a.asset_id, str(a.kind), _money(a.value), a.linkage.decision, str(len(a.controls)))
    return [agencies, assets]


def batch_table(batch: Batch, t: Texts) -> Table:
    table = _table(
        t("Batch {batch_id}: {status}", batch_id=batch.batch_id, status=batch.status),
        [
            (t("inquiry id"), "left"),
            (t("case id"), "left"),
            (t("status"), "left"),
            (t("assets"), "right"),
            (t("total value"), "right"),
        ],
    )
    for item in batch.summary or []:
        table.add_row(item.inquiry_id, item.case_id, item.status, str(item.assets), _money(item.total_value))
    totals = batch.totals or {}
    table.add_row(
        t("total"), "", "", str(totals.get("assets", "")), _money(totals.get("total_value")), style="bold"
    )
    return table


def order_table(order: ControlOrder, t: Texts) -> Table:
    table = _table(
        t("Control order {order_id}: {status}", order_id=order.order_id, status=order.status),
        [(t("field"), "left"), (t("value"), "left")],
    )
    table.add_row(t("case id"), order.case_id)
    table.add_row(t("asset id"), order.asset_id)
    table.add_row(t("action"), order.action or "")
    table.add_row(t("amount"), _money(order.amount))
    table.add_row(t("amount controlled"), _money(order.amount_controlled))
    table.add_row(t("position"), "–" if order.position is None else str(order.position))
    table.add_row(t("effective at"), rfc3339(order.effective_at))
    table.add_row(t("expires at"), rfc3339(order.expires_at))
    table.add_row(t("reason"), order.reason or "")
    for entry in order.history:
        table.add_row(
            f"{t('event')}: {entry.get('event')}", f"{rfc3339(entry.get('at'))}  {entry.get('status')}"
        )
    return table


def _event_summary(event: Event) -> str:
    data = event.data
    for key in ("status", "kind", "event"):
        if key in data and isinstance(data[key], str):
            ident = data.get("inquiry_id") or data.get("order_id") or ""
            return f"{ident} {data[key]}".strip()
    return ""


def event_line(event: Event) -> str:
    """One event as a line: cursor, time, type, case, what it says."""
    return (
        f"{event.cursor}\t{rfc3339(event.at)}\t{event.type}\t{event.case_id or ''}\t{_event_summary(event)}"
    )


def events_table(events: list[Event], t: Texts) -> Table:
    table = _table(
        t("Events"),
        [
            (t("cursor"), "right"),
            (t("at"), "left"),
            (t("type"), "left"),
            (t("case id"), "left"),
            (t("what"), "left"),
        ],
    )
    for e in events:
        table.add_row(e.cursor, rfc3339(e.at), e.type, e.case_id or "", _event_summary(e))
    return table
