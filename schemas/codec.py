"""The codec between models and Kafka bytes: UTF-8 JSON, one model per topic.

``decode`` raises :class:`CodecError` naming the field and the reason, which is what a dead letter
records.

Sizes: a Kafka producer refuses a message over its ``max_request_size`` (aiokafka: 1 MiB; faust's
producer: 1,000,000 bytes; Apache Kafka's ``message.max.bytes``: 1 MiB + 12 by default) and that
error can never succeed on retry. The embedded tansu broker accepted 16 MiB messages when measured,
so the binding limit is the clients'. Every hub message therefore stays under
:data:`MESSAGE_BUDGET_BYTES`: answers and results are split into parts (:func:`split_by_size`), and a
dead letter carries at most :data:`DEAD_LETTER_VALUE_BYTES` of the original message with its size.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from .models import DeadLetter
from .topics import model_for_topic

__all__ = [
    "DEAD_LETTER_VALUE_BYTES",
    "MESSAGE_BUDGET_BYTES",
    "CodecError",
    "TooLargeError",
    "dead_letter",
    "decode",
    "encode",
    "format_validation_error",
    "split_by_size",
]

# The most bytes one hub message may take: half of the smallest client limit (1,000,000 bytes),
# leaving room for the key, headers and the record batch framing.
MESSAGE_BUDGET_BYTES = 512 * 1024
# The most bytes of the original message a dead letter carries (the rest is counted, not kept).
DEAD_LETTER_VALUE_BYTES = 64 * 1024

T = TypeVar("T")


class CodecError(ValueError):
    pass


class TooLargeError(ValueError):
    """One item alone is larger than the message budget: it cannot be split further."""


def split_by_size(
    items: Sequence[T], sizes: Sequence[int], budget: int, *, overhead: int = 0
) -> list[list[T]]:
    """Cut ``items`` (in order) into consecutive chunks whose ``sizes`` (bytes each, same length as
    ``items``) add up to at most ``budget - overhead`` bytes, each item costing one byte more for its
    separator. Always at least one chunk (an empty list gives ``[[]]``).

    Raises :class:`TooLargeError` when one item alone exceeds the room left by ``overhead``.
    """
    room = budget - overhead
    chunks: list[list[T]] = [[]]
    used = 0
    for item, size in zip(items, sizes, strict=True):
        cost = size + 1
        if cost > room:
            raise TooLargeError(f"one item is {size} bytes; at most {room - 1} fit in a message")
        if used + cost > room:
            chunks.append([])
            used = 0
        chunks[-1].append(item)
        used += cost
    return chunks


def encode(message: BaseModel) -> bytes:
    return message.model_dump_json().encode()


def format_validation_error(e: ValidationError) -> str:
    parts = []
    for err in e.errors()[:5]:
        loc = ".".join(str(x) for x in err["loc"]) or "(message)"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


def decode(topic: str, data: bytes | None) -> Any:
    if data is None:
        raise CodecError("(message): empty value")
    try:
        return model_for_topic(topic).validate_json(data)
    except ValidationError as e:
        raise CodecError(format_validation_error(e)) from None


def _as_text(data: bytes, *, cut: bool) -> tuple[str, str]:
    # a cut may fall inside a multi-byte character: up to 3 trailing bytes may be its head
    for drop in range(4 if cut else 1):
        try:
            return data[: len(data) - drop].decode(), "utf-8"
        except UnicodeDecodeError:
            continue
    return base64.b64encode(data).decode(), "base64"


def dead_letter(
    *,
    topic: str,
    value: bytes | None,
    stage: str,
    error: BaseException,
    partition: int | None = None,
    offset: int | None = None,
    key: bytes | None = None,
    context: dict[str, str] | None = None,
) -> DeadLetter:
    """The dead letter of one message (``value`` as read from ``topic`` at ``partition``/``offset``).

    The original travels as UTF-8 text, or base64 when it is not UTF-8, cut to its first
    ``DEAD_LETTER_VALUE_BYTES`` bytes (``truncated``; ``value_size`` is always the original's byte
    count), so that a dead letter always fits in a message. ``reason`` is cut to 2,000 characters.
    """
    raw = value or b""
    kept = raw[:DEAD_LETTER_VALUE_BYTES]
    text, enc = _as_text(kept, cut=len(kept) < len(raw))
    return DeadLetter(
        source_topic=topic,
        partition=partition,
        offset=offset,
        key=key.decode(errors="replace") if key else None,
        value=text,
        value_encoding=enc,
        value_size=len(raw),
        truncated=len(kept) < len(raw),
        stage=stage,
        error_class=type(error).__name__,
        reason=str(error)[:2000],
        failed_at=dt.datetime.now(dt.UTC),
        context=context or {},
    )
