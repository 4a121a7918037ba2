"""Changes to one table key are applied one at a time across agents; other keys go on meanwhile."""

from __future__ import annotations

import asyncio

from streams.serial import KeyedLocks


def test_a_read_copy_publish_write_of_one_key_never_loses_a_concurrent_change() -> None:
    async def scenario() -> tuple[list[str], int]:
        table: dict[str, list[str]] = {"inq": []}
        locks = KeyedLocks()

        async def change(item: str) -> None:
            async with locks("inq"):
                state = list(table["inq"])  # a copy, as the streams take one
                state.append(item)
                await asyncio.sleep(0.01)  # publishing what the change produced
                table["inq"] = state

        await asyncio.gather(*(change(x) for x in ("opened", "police", "bank:icbc")))
        return table["inq"], len(locks)

    items, left = asyncio.run(scenario())
    assert sorted(items) == ["bank:icbc", "opened", "police"]
    assert left == 0  # no lock kept for a key nobody uses


def test_different_keys_do_not_wait_for_each_other() -> None:
    async def scenario() -> list[str]:
        locks = KeyedLocks()
        order: list[str] = []
        held = asyncio.Event()

        async def slow() -> None:
            async with locks("a"):
                held.set()
                await asyncio.sleep(0.05)
                order.append("a")

        async def fast() -> None:
            await held.wait()
            async with locks("b"):
                order.append("b")

        await asyncio.gather(slow(), fast())
        return order

    assert asyncio.run(scenario()) == ["b", "a"]
