"""This machine's CPU slots: handed out by urgency; blocking writes finish even on Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time

from grokreel.slots import ADVICE, Slots, off_loop


async def test_a_freed_slot_goes_to_the_most_urgent_waiter():
    slots = Slots(1)
    order: list[str] = []
    gate = asyncio.Event()

    async def job(name: str, urgency: float) -> None:
        async with slots.take(urgency):
            order.append(name)
            await gate.wait()

    first = asyncio.create_task(job("first", 0.0))
    await asyncio.sleep(0)
    waiting = [
        asyncio.create_task(job(name, urgency))
        for name, urgency in [("qa", ADVICE), ("normalize", 2.0), ("frame", 63.0), ("cut", 1.0)]
    ]
    await asyncio.sleep(0)
    gate.set()
    await asyncio.gather(first, *waiting)
    assert order == ["first", "frame", "normalize", "cut", "qa"]


async def test_a_cancelled_waiter_never_keeps_a_slot():
    """Cancelled while waiting, or in the same tick it was handed the slot: the slot passes on."""
    slots = Slots(1)
    holder_done = asyncio.Event()

    async def hold() -> None:
        async with slots.take(0.0):
            await holder_done.wait()

    async def wait_for_slot() -> str:
        async with slots.take(5.0):
            return "got it"

    holder = asyncio.create_task(hold())
    await asyncio.sleep(0)
    doomed = asyncio.create_task(wait_for_slot())
    later = asyncio.create_task(wait_for_slot())
    await asyncio.sleep(0)
    holder_done.set()
    await asyncio.sleep(0)  # the holder leaves and hands the slot to `doomed`...
    doomed.cancel()  # ...which is cancelled before it runs
    await holder
    assert await asyncio.wait_for(later, 5) == "got it"
    assert doomed.cancelled()
    async with asyncio.timeout(5), slots.take(0.0):  # and the slot is free again
        pass


async def test_a_cancel_waits_for_the_write_off_the_loop():
    """Ctrl-C during a record's write: the write ends before the cancel is seen."""
    started, finished = threading.Event(), threading.Event()

    def slow_write() -> None:
        started.set()
        time.sleep(0.3)
        finished.set()

    task = asyncio.create_task(off_loop(slow_write))
    while not started.is_set():
        await asyncio.sleep(0.01)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert finished.is_set() and task.cancelled()


async def test_off_loop_keeps_the_loop_free():
    """While a blocking call runs in its thread, other coroutines go on."""
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    ticker = asyncio.create_task(tick())
    assert await off_loop(lambda: time.sleep(0.2) or 42) == 42
    ticker.cancel()
    assert ticks >= 5
