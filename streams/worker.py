"""The stream worker's faust ``Worker``: faust's own, without its terminal progress spinner.

faust's worker attaches a spinner handler to the root logger and sets the root logger to ``DEBUG``
for it (so every log call turns the spinner), and leaves it so after start-up: every ``debug`` call
of faust, mode and aiokafka then builds a log record, one per message sent among them (measured: 4 %
of the worker's CPU under load), to be dropped by the handlers. Without the spinner the root logger
keeps the level of the hub's logging configuration (``hub.masking.logging_config``).
"""

from __future__ import annotations

import logging

import faust

__all__ = ["Worker"]


class Worker(faust.Worker):
    """``faust.Worker`` with no spinner (``app.conf.Worker``; faust's CLI ``worker`` builds it)."""

    def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
        self.spinner = None
        super().on_setup_root_logger(logger, level)
