"""How a registry call is retried: only transient failures, exponential backoff with jitter,
``Retry-After`` honoured, bounded in attempts *and* by the request's deadline (Kafka Connect's rules)."""

from __future__ import annotations

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

__all__ = ["RetryPolicy", "is_transient"]

T = TypeVar("T")


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, TransientRegistryError | httpx.TransportError)


class RetryPolicy:
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
        self, fn: Callable[[], Awaitable[T]], *, deadline: dt.datetime, now: Callable[[], dt.datetime]
    ) -> tuple[T, int]:
        """Run ``fn`` with retries; return its result and the number of attempts.

        Gives up (re-raising the last error) when attempts run out or the next wait would pass the
        deadline, so the caller can still report within the inquiry's SLA.
        """
        budget = max(0.0, (deadline - now()).total_seconds())
        kwargs: dict[str, Any] = {}
        if self._sleep is not None:
            kwargs["sleep"] = self._sleep
        retrying = AsyncRetrying(
            retry=retry_if_exception(is_transient),
            stop=stop_after_attempt(self.max_attempts) | stop_before_delay(budget),
            wait=self._wait,
            reraise=True,
            **kwargs,
        )
        attempts = 0
        async for attempt in retrying:
            with attempt:
                attempts = attempt.retry_state.attempt_number
                result = await fn()
        return result, attempts
