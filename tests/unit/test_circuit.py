"""The per-agency circuit breaker (connectors/circuit.py), the retry policy around it, and the
connector runtime answering an open circuit without calling the registry (HTTP faked at the transport)."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx
import pytest

from connectors.circuit import CircuitBreaker, CircuitOpenError, CircuitState
from connectors.retry import RetryPolicy
from connectors.runtime import ConnectorRunner
from hub.errors import PermanentRegistryError, RegistryUnavailable
from hub.settings import HubSettings
from schemas.codec import encode

from .test_connector_runtime import NOW, EchoBank, FakeClock, RecordingProducer, request


class Ticks:
    """A monotonic clock the test moves by hand (seconds)."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def breaker(threshold: int = 3, reset: float = 10.0) -> tuple[CircuitBreaker, Ticks, list[CircuitState]]:
    ticks = Ticks()
    changes: list[CircuitState] = []
    return (
        CircuitBreaker(
            "bank:icbc",
            failure_threshold=threshold,
            reset_seconds=reset,
            clock=ticks,
            on_change=changes.append,
        ),
        ticks,
        changes,
    )


def fail(b: CircuitBreaker, n: int) -> None:
    for _ in range(n):
        b.before_call()
        b.record_failure("RegistryUnavailable (HTTP 503)")


def test_opens_after_n_consecutive_failures_and_refuses_without_calling() -> None:
    b, _, changes = breaker(threshold=3)
    fail(b, 2)
    assert b.state is CircuitState.CLOSED
    b.before_call()
    b.record_success()  # a success in between resets the count
    fail(b, 2)
    assert b.state is CircuitState.CLOSED
    fail(b, 1)
    assert b.state is CircuitState.OPEN and changes == [CircuitState.OPEN]
    with pytest.raises(CircuitOpenError) as info:
        b.before_call()
    assert info.value.retry_after == pytest.approx(10.0)
    assert "3 consecutive failures" in str(info.value)
    assert b.refused == 1 and b.times_opened == 1


def test_half_open_lets_one_probe_through_and_its_success_closes() -> None:
    b, ticks, changes = breaker(threshold=2, reset=10.0)
    fail(b, 2)
    ticks.t += 9.5
    with pytest.raises(CircuitOpenError) as info:
        b.before_call()
    assert info.value.retry_after == pytest.approx(0.5)
    ticks.t += 0.5
    assert b.state is CircuitState.HALF_OPEN  # the next call is the probe
    b.before_call()  # the probe is admitted
    with pytest.raises(CircuitOpenError):
        b.before_call()  # a second caller while the probe is out is refused
    b.record_success()
    assert b.state is CircuitState.CLOSED and b.consecutive_failures == 0
    assert changes == [CircuitState.OPEN, CircuitState.HALF_OPEN, CircuitState.CLOSED]
    b.before_call()  # closed: every call goes


def test_failed_probe_opens_again_for_another_reset_period() -> None:
    b, ticks, _ = breaker(threshold=2, reset=10.0)
    fail(b, 2)
    ticks.t += 10
    b.before_call()
    b.record_failure("ReadTimeout")
    assert b.state is CircuitState.OPEN and b.times_opened == 2
    assert b.retry_after() == pytest.approx(10.0)
    snap = b.snapshot()
    assert snap["state"] == "open" and snap["times_opened"] == 2 and snap["last_failure"] == "ReadTimeout"


def test_cancelled_probe_frees_the_slot() -> None:
    b, ticks, _ = breaker(threshold=1, reset=1.0)
    fail(b, 1)
    ticks.t += 1
    b.before_call()
    b.release()
    b.before_call()  # another probe may go
    assert b.state is CircuitState.HALF_OPEN


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        CircuitBreaker("police", failure_threshold=0)
    with pytest.raises(ValueError):
        CircuitBreaker("police", reset_seconds=0)


# ------------------------------------------------------------------ the retry policy with a circuit


def test_policy_counts_transient_failures_and_a_4xx_as_the_registry_being_up() -> None:
    b, _, _ = breaker(threshold=2)
    sleeps: list[float] = []

    async def sleep(s: float) -> None:
        sleeps.append(s)

    policy = RetryPolicy(max_attempts=6, initial=0.1, maximum=1.0, sleep=sleep)

    async def refused() -> None:
        raise PermanentRegistryError("bank:icbc", "HTTP 400: bad field", status_code=400)

    with pytest.raises(PermanentRegistryError):
        asyncio.run(policy.call(refused, deadline=NOW + dt.timedelta(seconds=30), now=lambda: NOW, circuit=b))
    assert b.state is CircuitState.CLOSED and b.consecutive_failures == 0

    calls = 0

    async def down() -> None:
        nonlocal calls
        calls += 1
        raise RegistryUnavailable("bank:icbc", "HTTP 503: outage", status_code=503)

    with pytest.raises(CircuitOpenError):
        asyncio.run(policy.call(down, deadline=NOW + dt.timedelta(seconds=30), now=lambda: NOW, circuit=b))
    # two calls opened the circuit; the third try was refused and ended the retries (an inquiry's rule)
    assert calls == 2 and b.state is CircuitState.OPEN and b.refused == 1


def test_waiting_for_the_circuit_outlasts_the_attempt_limit_until_the_registry_is_back() -> None:
    """A control order's rule: retried through an outage longer than max_attempts would allow."""
    b, ticks, _ = breaker(threshold=3, reset=5.0)
    sleeps: list[float] = []

    async def sleep(s: float) -> None:
        sleeps.append(s)
        ticks.t += s  # the breaker's clock moves with the waits

    policy = RetryPolicy(max_attempts=6, initial=0.1, maximum=1.0, sleep=sleep)
    back_at = ticks.t + 40.0  # the outage lasts 40 s
    calls = 0

    async def registry() -> str:
        nonlocal calls
        calls += 1
        if ticks.t < back_at:
            raise RegistryUnavailable("bank:icbc", "HTTP 503: outage", status_code=503)
        return "effective"

    result, attempts = asyncio.run(
        policy.call(
            registry,
            deadline=NOW + dt.timedelta(seconds=300),
            now=lambda: NOW,
            circuit=b,
            wait_for_circuit=True,
            max_attempts=1000,
        )
    )
    assert result == "effective"
    assert attempts > 6, "the inquiry attempt limit does not end a control order's retries"
    # while open, each wait lasts until the next probe: the registry saw few calls over 40 s
    assert calls <= 3 + 40 / 5 + 1
    assert any(s >= 4.0 for s in sleeps)
    assert b.state is CircuitState.CLOSED


# ------------------------------------------------------------------ the runtime


def test_inquiry_during_an_open_circuit_is_unavailable_at_once_without_calling_the_registry() -> None:
    calls = 0

    def handler(req: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(503, text="outage")

    sleeps: list[float] = []

    async def sleep(s: float) -> None:
        sleeps.append(s)

    settings = HubSettings(circuit_failure_threshold=3, circuit_reset_seconds=60)
    producer = RecordingProducer()
    r = ConnectorRunner(
        EchoBank("http://bank.test", "s3cret"),
        settings,
        producer=producer,  # type: ignore[arg-type]
        client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        clock=FakeClock(),
        retry=RetryPolicy(max_attempts=6, initial=0.1, maximum=1.0, sleep=sleep),
    )
    first = asyncio.run(r.handle(encode(request())))
    assert first is not None and first.status == "unavailable"
    assert calls == 3, "the circuit opened after 3 failures and ended the first inquiry's retries"
    assert r.circuit.state is CircuitState.OPEN

    sleeps.clear()
    second = asyncio.run(r.handle(encode(request())))
    assert second is not None and second.status == "unavailable"
    assert "circuit open" in (second.detail or "")
    assert calls == 3, "an open circuit answers without calling the registry"
    assert sleeps == [], "and without waiting"
    stats = r.snapshot()
    assert stats["circuit_open"] is True
    assert stats["circuit"]["state"] == "open"
    assert stats["circuit"]["refused"] == 2  # the first inquiry's fourth try and the second inquiry
