"""Producer checks of the read model: may the producer of this result or court event send it?

A message on ``hub.inquiry.results`` or ``hub.court.outcomes`` changes what a court reads, so before
a batch is stored each message is compared with what the gateway stored about its subject:

- a result must name the court and case of the stored inquiry; a result of an inquiry the gateway
  never saw (a court's system that published its command to the commands topic itself) must name a
  stored case of the same court;
- a court event must name the court and case of the stored order (and its order state the same
  court, case and asset); an event of an order the gateway never saw must name a stored case of the
  same court.

What disagrees is refused: :func:`screen` returns it with a :class:`hub.errors.ForgedMessage` naming
the field, and the read model dead-letters it (stage ``gateway.readmodel.producer_check``); nothing
of it is stored. One query per table per fetched batch.
"""

from __future__ import annotations

from typing import Any, TypeVar

from hub.errors import ForgedMessage

from .db import Database

__all__ = ["STAGE", "screen"]

STAGE = "gateway.readmodel.producer_check"

M = TypeVar("M")


def _same(field: str, got: Any, stored: Any, what: str) -> None:
    if got != stored:
        raise ForgedMessage(f"{field}: {got!r} is not the {field} of {what}")


def _check_result(body: dict[str, Any], stored: Any, case: Any) -> None:
    inquiry_id = body["inquiry_id"]
    if stored is not None:
        _same("court_id", body["court_id"], stored.court_id, f"inquiry {inquiry_id}")
        _same("case_id", body["case_id"], stored.case_id, f"inquiry {inquiry_id}")
        return
    if case is None or case.court_id != body["court_id"]:
        raise ForgedMessage(
            f"case_id: inquiry {inquiry_id} is unknown and case {body['case_id']} is not a case of "
            f"court {body['court_id']}"
        )


def _check_event(body: dict[str, Any], stored: Any, case: Any) -> None:
    order_id = body["order_id"]
    state = body.get("order") or {}
    _same("order.order_id", state.get("order_id"), order_id, f"event {body['event_id']}")
    _same("order.court_id", state.get("court_id"), body["court_id"], f"event {body['event_id']}")
    _same("order.case_id", state.get("case_id"), body["case_id"], f"event {body['event_id']}")
    if stored is not None:
        _same("court_id", body["court_id"], stored.court_id, f"order {order_id}")
        _same("case_id", body["case_id"], stored.case_id, f"order {order_id}")
        _same("order.asset_id", state.get("asset_id"), stored.asset_id, f"order {order_id}")
        return
    if case is None or case.court_id != body["court_id"]:
        raise ForgedMessage(
            f"case_id: order {order_id} is unknown and case {body['case_id']} is not a case of "
            f"court {body['court_id']}"
        )


async def screen(
    db: Database, results: list[tuple[M, dict[str, Any]]], events: list[tuple[M, dict[str, Any]]]
) -> tuple[list[tuple[M, dict[str, Any]]], list[tuple[M, dict[str, Any]]], list[tuple[M, ForgedMessage]]]:
    """Split a decoded batch into the results and events that pass and the messages refused.

    ``results`` and ``events`` are ``(message, decoded body)`` pairs (bodies as the read model
    stores them); returns ``(results kept, events kept, [(message, ForgedMessage)])``.
    Raises only what the database raises.
    """
    if not results and not events:
        return results, events, []
    stored_inquiries = await db.owners("inquiry", [b["inquiry_id"] for _, b in results])
    stored_orders = await db.owners("order", [b["order_id"] for _, b in events])
    unknown_cases = [b["case_id"] for _, b in results if b["inquiry_id"] not in stored_inquiries]
    unknown_cases += [b["case_id"] for _, b in events if b["order_id"] not in stored_orders]
    stored_cases = await db.owners("case", unknown_cases)
    refused: list[tuple[M, ForgedMessage]] = []
    kept_results: list[tuple[M, dict[str, Any]]] = []
    kept_events: list[tuple[M, dict[str, Any]]] = []
    for items, kept, stored, key, check in (
        (results, kept_results, stored_inquiries, "inquiry_id", _check_result),
        (events, kept_events, stored_orders, "order_id", _check_event),
    ):
        for msg, body in items:
            try:
                check(body, stored.get(body[key]), stored_cases.get(body["case_id"]))
            except ForgedMessage as e:
                refused.append((msg, e))
                continue
            kept.append((msg, body))
    return kept_results, kept_events, refused
