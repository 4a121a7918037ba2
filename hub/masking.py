"""Masking of personal identifiers in anything logged."""

from __future__ import annotations

import logging
import re

__all__ = ["MaskingFilter", "mask_id", "mask_text", "setup_logging"]

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


def setup_logging(level: str = "INFO", service: str = "hub") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # per-connection and per-request INFO lines: noise, CPU, and httpx's would put names in the log
    for chatty in ("kafka", "aiokafka", "httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
