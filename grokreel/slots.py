"""This machine's share of a build: CPU slots handed to the most urgent waiter first, and
blocking disk writes kept off the event loop.

A semaphore wakes waiters in arrival order, so a frame grab that a paid job is waiting for could
sit behind a dozen normalizations that only the cut needs, and clip QA (advice, not output) could
take a core from the cut. Here each waiter says how urgent it is (``Plan.urgency``: the longest
chain of work still behind it) and a freed slot goes to the most urgent; equals keep their order.

The event loop notices finishes and sends submits for every job in flight; an fsync on it (a
journal entry, a clip's record) stalls all of them at once, so those writes go to a thread.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

__all__ = ["ADVICE", "InFlight", "Slots", "off_loop"]

T = TypeVar("T")

ADVICE = -1.0  # work nothing waits for (clip QA): runs only when no job wants the slot


class Slots:
    """``size`` slots; ``async with slots.take(urgency):`` holds one."""

    def __init__(self, size: int):
        self._free = max(1, size)
        self._waiting: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    @asynccontextmanager
    async def take(self, urgency: float) -> AsyncIterator[None]:
        await self._acquire(urgency)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, urgency: float) -> None:
        if self._free and not self._waiting:
            self._free -= 1
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (-urgency, next(self._order), turn))
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._release()  # handed a slot in the same tick as the cancel: pass it on
            raise

    def _release(self) -> None:
        while self._waiting:
            turn = heapq.heappop(self._waiting)[2]
            if not turn.done():  # a cancelled waiter's turn is done already: skip it
                turn.set_result(None)
                return
        self._free += 1


class InFlight:
    """At most ``size`` paid requests at the API at once. A request gives its slot back (the
    ``done`` it holds) the moment fal names its clip: the download after that is not API time,
    and a chain's next link must not wait behind other clips' downloads."""

    def __init__(self, size: int):
        self._slots = asyncio.Semaphore(max(1, size))

    @asynccontextmanager
    async def hold(self) -> AsyncIterator[Callable[[], None]]:
        await self._slots.acquire()
        held = True

        def done() -> None:
            nonlocal held
            if held:
                held = False
                self._slots.release()

        try:
            yield done
        finally:
            done()


async def off_loop(fn: Callable[..., T], *args: object) -> T:
    """``fn(*args)`` in a thread, so the event loop goes on with every other job; a cancel
    (Ctrl-C) waits for it to end, so a record or a clip is never half written when a build stops."""
    work = asyncio.ensure_future(asyncio.to_thread(fn, *args))
    try:
        return await asyncio.shield(work)
    except asyncio.CancelledError:
        await work
        raise
