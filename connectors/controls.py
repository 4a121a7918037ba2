"""The control-order runner: consume ``hub.agency.<agency>.controls``, have the registry execute
each order, publish the outcome (and any controls it promoted) to ``hub.control.results``.

It shares the Kafka loop, retries and dead-lettering of ``ConnectorRunner``; only the message
and the registry call differ. Orders are retried for ``HUB_CONTROL_RETRY_SECONDS`` (not an
inquiry's SLA), however many attempts that takes (up to ``HUB_CONTROL_MAX_ATTEMPTS``), waiting
for the agency's circuit to half-open rather than failing on it: a freeze must not be lost to a
short outage. The registry is idempotent by
order id, so a redelivered order or a retry after a lost reply is executed once.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any

from hub.errors import PermanentRegistryError
from schemas.agencies import REGISTER_ACTION, agency_slug
from schemas.codec import CodecError, decode, encode
from schemas.models import ControlCommand, ControlOutcome
from schemas.topics import CONTROL_RESULTS, agency_controls_topic

from .retry import is_transient
from .runtime import ConnectorRunner

__all__ = ["ControlRunner"]

log = logging.getLogger(__name__)


class ControlRunner(ConnectorRunner):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.topic = agency_controls_topic(self.agency)
        self.group_id = f"hub-connector-{agency_slug(self.agency)}-controls"

    async def handle(  # type: ignore[override]
        self,
        value: bytes | None,
        *,
        partition: int | None = None,
        offset: int | None = None,
        key: bytes | None = None,
    ) -> ControlOutcome | None:
        try:
            command: ControlCommand = decode(self.topic, value)
        except CodecError as e:
            await self._dead_letter(value, e, "connector.controls.decode", partition, offset, key)
            return None
        if command.agency != self.agency:
            err = CodecError(f"agency: order for {command.agency!r} on {self.agency!r}'s topic")
            await self._dead_letter(value, err, "connector.controls.route", partition, offset, key)
            return None
        attempts = 0
        self.stats.requests += 1
        self.stats.in_flight += 1
        started = time.perf_counter()

        async def call() -> ControlOutcome:
            nonlocal attempts
            attempts += 1
            if attempts > 1:
                self.stats.retried += 1
            return await self.adapter.execute_control(self.client, command)

        deadline = max(command.requested_at, self.clock.now()) + dt.timedelta(
            seconds=self.settings.control_retry_seconds
        )
        try:
            # bounded by the retry window, not the inquiry attempt limit; while the agency's circuit
            # is open the order waits for the next probe instead of giving up
            outcome, _ = await self.retry.call(
                call,
                deadline=deadline,
                now=self.clock.now,
                circuit=self.circuit,
                wait_for_circuit=True,
                max_attempts=self.settings.control_max_attempts,
            )
            self.stats.answered += 1
            self.stats.consecutive_failures = 0
        except Exception as e:
            self.stats.failed += 1
            self.stats.consecutive_failures += 1
            if not (is_transient(e) or isinstance(e, PermanentRegistryError)):
                log.exception("%s: control adapter error", self.agency)
            reason = self._reason(e, attempts)
            await self._dead_letter(
                value,
                e,
                "connector.controls.registry",
                partition,
                offset,
                key,
                context={"agency": self.agency, "order_id": command.order_id, "attempts": str(attempts)},
            )
            outcome = ControlOutcome(
                order_id=command.order_id,
                case_id=command.case_id,
                court_id=command.court_id,
                agency=self.agency,
                asset_ref=command.asset_ref,
                action=command.action,
                outcome="failed",
                control_id=command.control_id,
                reason=reason,
                decided_at=self.clock.now(),
                idempotency_key=f"{command.idempotency_key}/failed",
            )
        finally:
            self.stats.in_flight -= 1
            self.stats.latencies_ms.append((time.perf_counter() - started) * 1000)
        await self.publish(CONTROL_RESULTS, encode(outcome), key=command.case_id.encode())
        ended = "was released" if command.action == "release" else "lapsed"
        for promoted in outcome.promoted:
            if not (promoted.order_id and promoted.case_id):
                continue  # another court's control outside the hub: the agency tells that court itself
            note = ControlOutcome(
                order_id=promoted.order_id,
                case_id=promoted.case_id,
                court_id=promoted.court,
                agency=self.agency,
                asset_ref=command.asset_ref,
                action=REGISTER_ACTION[command.asset_kind],
                outcome="effective",
                control_id=promoted.control_id,
                position=0,
                amount_controlled=promoted.amount_controlled,
                effective_at=promoted.effective_at,
                expires_at=promoted.expires_at,
                reason=f"took effect when the earlier control {ended}",
                decided_at=outcome.decided_at,
                idempotency_key=f"{promoted.control_id}/promoted/{promoted.effective_at.isoformat()}",
            )
            await self.publish(CONTROL_RESULTS, encode(note), key=promoted.case_id.encode())
        return outcome
