"""Background loops of the gateway are supervised; client-library log noise is bounded; logged
tracebacks are masked."""

from __future__ import annotations

import asyncio
import logging

from gateway.supervision import Supervised
from hub.masking import MaskingFormatter, RepeatFilter


def test_a_failing_loop_is_restarted_counted_and_unhealthy_until_it_runs_again() -> None:
    async def scenario() -> None:
        calls = {"run": 0, "recover": 0}
        now = {"t": 0.0}
        second_run = asyncio.Event()

        async def run() -> None:
            calls["run"] += 1
            if calls["run"] == 1:
                raise RuntimeError("database is locked")
            second_run.set()
            await asyncio.Event().wait()  # runs for ever

        async def recover() -> None:
            calls["recover"] += 1

        loop = Supervised("read model", run, recover=recover, initial=0.01, grace=5.0, clock=lambda: now["t"])
        loop.start()
        await asyncio.wait_for(second_run.wait(), 2)
        assert loop.restarts == 1 and calls["recover"] == 1
        assert loop.last_error == "RuntimeError: database is locked"
        assert loop.state == "running" and not loop.healthy  # failed within the grace period
        now["t"] = 6.0
        assert loop.healthy
        await loop.stop()
        assert loop.state == "stopped"

    asyncio.run(scenario())


def test_a_loop_that_returns_counts_as_dead_and_is_restarted() -> None:
    async def scenario() -> None:
        runs = []

        async def run() -> None:
            runs.append(1)
            if len(runs) > 2:
                await asyncio.Event().wait()

        loop = Supervised("webhooks", run, initial=0.001)
        loop.start()
        for _ in range(200):
            if len(runs) >= 3:
                break
            await asyncio.sleep(0.01)
        assert loop.restarts == 2 and "returned" in (loop.last_error or "")
        await loop.stop()

    asyncio.run(scenario())


def _record(name: str, msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord(name, logging.ERROR, __file__, 1, msg, args, None)


def test_client_library_repeats_are_bounded_and_counted() -> None:
    now = {"t": 0.0}
    f = RepeatFilter(window=10.0, clock=lambda: now["t"])
    template = "Unable connect to node with id %s: %s"
    assert f.filter(_record("aiokafka", template, 1, "refused"))
    assert not any(f.filter(_record("aiokafka", template, 1, "refused")) for _ in range(50))
    assert f.filter(_record("aiokafka.consumer", "another template %s", 1))  # its own template
    assert f.filter(_record("streams.app", template, 1, "x"))  # the hub's own lines are never dropped
    assert f.filter(_record("streams.app", template, 1, "x"))
    now["t"] = 11.0
    record = _record("aiokafka", template, 1, "refused")
    assert f.filter(record)
    assert "[50 similar lines in the last 10 s left out]" in record.getMessage()


def test_a_logged_traceback_is_masked() -> None:
    formatter = MaskingFormatter("%(message)s")
    try:
        raise ValueError("no debtor 110101198001010010 named 张伟")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    text = formatter.format(record)
    assert "110101198001010010" not in text and "1101************10" in text


def test_the_database_probe_reports_a_locked_database_without_waiting_on_it() -> None:
    from gateway.supervision import DatabaseProbe

    async def scenario() -> None:
        locked = asyncio.Event()

        async def write() -> None:
            if locked.is_set():
                await asyncio.sleep(10)  # a write waiting on a lock held elsewhere

        probe = DatabaseProbe(write, interval=0.01, timeout=0.05)
        assert probe.status() == "starting"
        task = asyncio.create_task(probe.run())
        await asyncio.sleep(0.05)
        assert probe.status() == "ok"
        locked.set()
        await asyncio.sleep(0.2)
        assert probe.status().startswith("not writable within")
        locked.clear()
        await asyncio.sleep(0.2)
        assert probe.status() == "ok"
        task.cancel()

    asyncio.run(scenario())


def test_an_inquiry_the_gateway_settles_keeps_what_was_answered() -> None:
    import datetime as dt
    from types import SimpleNamespace

    from gateway.reconciler import UNANSWERED, settled_result

    row = SimpleNamespace(
        inquiry_id="inq_1",
        case_id="case_1",
        court_id="court-a",
        version=3,
        request={"agencies": ["police", "bank:icbc"]},
        result={
            "agencies": {"police": {"status": "answered", "detail": None}},
            "assets": [{"asset_id": "x"}],
        },
    )
    result = settled_result(row, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert result["status"] == "partial" and result["version"] == 3
    assert result["agencies"]["police"]["status"] == "answered"
    assert result["agencies"]["bank:icbc"] == {"status": "unavailable", "detail": UNANSWERED}
    assert result["assets"] == [{"asset_id": "x"}]
