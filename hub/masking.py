"""Masking of personal identifiers in anything logged."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable

__all__ = [
    "MaskingFilter",
    "MaskingFormatter",
    "RepeatFilter",
    "logging_config",
    "mask_id",
    "mask_text",
    "setup_logging",
]

# 15/18-character identity numbers, 18-character credit codes, long account numbers
_ID_RE = re.compile(r"(?<![0-9A-Za-z])([0-9A-Z]{4})[0-9A-Z]{7,}([0-9A-Z]{2})(?![0-9A-Za-z])")


def mask_id(value: str | None) -> str:
    if not value:
        return ""
    v = str(value)
    if len(v) <= 6:
        return "*" * len(v)
    return f"{v[:4]}{'*' * (len(v) - 6)}{v[-2:]}"


def mask_text(text: str) -> str:
    return _ID_RE.sub(lambda m: f"{m.group(1)}{'*' * (len(m.group(0)) - 6)}{m.group(2)}", text)


class MaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        masked = mask_text(msg)
        if masked != msg:
            record.msg, record.args = masked, None
        return True


class RepeatFilter(logging.Filter):
    """At most one line per ``window`` seconds for each message template of the client libraries.

    While the broker is away, aiokafka and faust log the same connection error for every consumer
    several times a second (a connector's log grew 140 KB/s); one line per template and window says
    as much, and the next line after a quiet spell counts what was left out.
    """

    NOISY = ("aiokafka", "kafka", "faust", "mode")

    def __init__(self, window: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.window = window
        self.clock = clock
        self._last: dict[tuple[str, object], float] = {}
        self._dropped: dict[tuple[str, object], int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(self.NOISY):
            return True
        key = (record.name, record.msg)
        now = self.clock()
        if now - self._last.get(key, -1e18) < self.window:
            self._dropped[key] = self._dropped.get(key, 0) + 1
            return False
        self._last[key] = now
        if dropped := self._dropped.pop(key, 0):
            record.msg = (
                f"{record.getMessage()} [{dropped} similar lines in the last {self.window:.0f} s left out]"
            )
            record.args = None
        if len(self._last) > 10_000:  # bounded: templates are few, but be safe
            self._last.clear()
        return True


class MaskingFormatter(logging.Formatter):
    """Masks the whole formatted line, tracebacks included (a message filter never sees those)."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_text(super().format(record))


def log_format(service: str) -> str:
    return f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s"


def logging_config(service: str, level: str = "WARNING") -> dict[str, object]:
    """A ``logging.config.dictConfig`` with the hub's masking and repeat filters, for libraries that
    configure logging themselves (faust's worker takes it as ``logging_config``)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"repeat": {"()": RepeatFilter}, "mask": {"()": MaskingFilter}},
        "formatters": {"default": {"()": MaskingFormatter, "format": log_format(service)}},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["repeat", "mask"],
            }
        },
        "root": {"level": level, "handlers": ["default"]},
    }


def setup_logging(level: str = "INFO", service: str = "hub") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(MaskingFormatter(log_format(service)))
    handler.addFilter(RepeatFilter())
    handler.addFilter(MaskingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # per-connection and per-request INFO lines: noise, CPU, and httpx's would put names in the log
    for chatty in ("kafka", "aiokafka", "httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
