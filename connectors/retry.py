"""How a registry call is retried: only transient failures, exponential backoff with jitter,
``Retry-After`` honoured, bounded in attempts *and* by a deadline (Kafka Connect's rules), through
the agency's circuit breaker (``connectors.circuit``) when one is given."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential_jitter,
)

from hub.errors import TransientRegistryError

from .circuit import CircuitBreaker, CircuitOpenError

__all__ = ["RetryPolicy", "is_transient"]

T = TypeVar("T")


def is_transient(exc: BaseException) -> bool:
    """Worth retrying: timeouts, connection errors, 5xx, 429, 503 and an open circuit."""
    return isinstance(exc, TransientRegistryError | httpx.TransportError)


class RetryPolicy:
    """Exponential backoff (``initial`` s doubling up to ``maximum`` s, jitter up to ``initial`` s);
    ``sleep`` replaces ``asyncio.sleep`` in tests (it receives every wait, in seconds)."""

    def __init__(
        self,
        *,
        max_attempts: int = 6,
        initial: float = 0.2,
        maximum: float = 3.0,
        sleep: Callable[[float], Awaitable[Any]] | None = None,
    ) -> None:
        self.max_attempts = max_attempts
        self._backoff = wait_exponential_jitter(multiplier=initial, max=maximum, jitter=initial)
        self._sleep = sleep

    def _wait(self, state: RetryCallState) -> float:
        backoff = self._backoff(state)
        exc = state.outcome.exception() if state.outcome else None
        retry_after = getattr(exc, "retry_after", None)
        return max(backoff, retry_after) if retry_after is not None else backoff

    async def call(
        self,
        fn: Callable[[], Awaitable[T]],
        *,
        deadline: dt.datetime,
        now: Callable[[], dt.datetime],
        circuit: CircuitBreaker | None = None,
        wait_for_circuit: bool = False,
        max_attempts: int | None = None,
    ) -> tuple[T, int]:
        """Run ``fn`` with retries; return its result and the number of attempts (tries, including
        those an open circuit refused without calling ``fn``).

        Gives up, re-raising the last error, when ``max_attempts`` (default: the policy's) run out
        or the next wait would pass ``deadline``. With a ``circuit``, every try asks it first: an
        open circuit raises ``CircuitOpenError`` without calling ``fn``; that ends the retries at
        once unless ``wait_for_circuit`` (then the wait lasts at least until the next probe).
        Transient failures of ``fn`` count as circuit failures; any other outcome as a success.
        """

        def retriable(exc: BaseException) -> bool:
            if isinstance(exc, CircuitOpenError):
                return wait_for_circuit
            return is_transient(exc)

        # the first try without tenacity's machinery (most calls succeed at once; building a
        # retrying loop per call was a tenth of the connectors' CPU); a failure is replayed as the
        # loop's first attempt, so waits, stops and the re-raise are tenacity's as before
        try:
            return await (fn() if circuit is None else _through(circuit, fn)), 1
        except Exception as e:
            if not retriable(e):
                raise
            first: BaseException | None = e
        budget = max(0.0, (deadline - now()).total_seconds())
        kwargs: dict[str, Any] = {}
        if self._sleep is not None:
            kwargs["sleep"] = self._sleep

        retrying = AsyncRetrying(
            retry=retry_if_exception(retriable),
            stop=stop_after_attempt(max_attempts or self.max_attempts) | stop_before_delay(budget),
            wait=self._wait,
            reraise=True,
            **kwargs,
        )
        attempts = 0
        async for attempt in retrying:
            with attempt:
                attempts = attempt.retry_state.attempt_number
                if first is not None:
                    replay, first = first, None
                    raise replay
                result = await (fn() if circuit is None else _through(circuit, fn))
        return result, attempts


async def _through(circuit: CircuitBreaker, fn: Callable[[], Awaitable[T]]) -> T:
    circuit.before_call()
    try:
        result = await fn()
    except asyncio.CancelledError:
        circuit.release()
        raise
    except Exception as e:
        if is_transient(e):
            code = getattr(e, "status_code", None)
            circuit.record_failure(type(e).__name__ + (f" (HTTP {code})" if code else ""))
        else:
            circuit.record_success()  # the registry answered: it is up, the reply was the problem
        raise
    circuit.record_success()
    return result
