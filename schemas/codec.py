"""The codec between models and Kafka bytes: UTF-8 JSON, one model per topic.

``decode`` raises :class:`CodecError` naming the field and the reason, which is what a dead letter
records.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from pydantic import BaseModel, ValidationError

from .models import DeadLetter
from .topics import model_for_topic

__all__ = ["CodecError", "dead_letter", "decode", "encode", "format_validation_error"]


class CodecError(ValueError):
    pass


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
    raw = value or b""
    try:
        text, enc = raw.decode(), "utf-8"
    except UnicodeDecodeError:
        text, enc = base64.b64encode(raw).decode(), "base64"
    return DeadLetter(
        source_topic=topic,
        partition=partition,
        offset=offset,
        key=key.decode(errors="replace") if key else None,
        value=text,
        value_encoding=enc,
        stage=stage,
        error_class=type(error).__name__,
        reason=str(error)[:2000],
        failed_at=dt.datetime.now(dt.UTC),
        context=context or {},
    )
