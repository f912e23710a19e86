"""Waiting for a journaled fal request to finish: the status stream, with polling behind it.

    wait(flight)
      ├─ GET {status_url}/stream?logs=1  (server-sent events: each ``data:`` line is a status)
      │     COMPLETED → returned at once: the finish is noticed as fal announces it
      │     refused (any non-2xx) → polling for the rest of this request
      │     dropped, garbled, or closed early → one poll, then the stream again (a few times)
      └─ GET {status_url}?logs=1, every PollSchedule.next() seconds, until COMPLETED

The poll is the authority on every answer other than "still going": a 404, a 401, the retries of a
5xx are all handled by the poll (docs/faults.md), so a stream that misbehaves in any way costs only
a little lag, never the journaled request.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from ..cache.journal import Journal, JournalEntry
from .base import Progress
from .fal_http import FalHttp, Transient, Where, server_words

__all__ = ["Flight", "PollSchedule", "Waiter", "said"]

STREAM_TRIES = 3  # streams opened per request before polling alone (a drop after a while is free)
STREAM_HEALTHY = 10.0  # seconds a stream must have lasted for its drop not to count as a try


@dataclass(frozen=True)
class PollSchedule:
    """Seconds between status polls (when there is no status stream).

    While queued (minutes, not billed): ``base`` after a change, then ×``factor`` per poll up to
    ``queued_max``. While running: ``running_share`` of the time the job has been seen running,
    within ``floor``…``running_max``; a finish is then noticed after about half that share of
    the job's run time, whatever its length, with polls growing only logarithmically in number.
    """

    base: float = 0.5
    queued_max: float = 5.0
    running_max: float = 2.0
    factor: float = 1.5
    deadline: float = 3600.0
    running_share: float = 0.05  # median lag on a 1 s job, polling only: 82 ms at 0.1, 55 ms
    floor: float = 0.05

    @classmethod
    def scaled(cls, base: float, deadline: float = 3600.0) -> PollSchedule:
        return cls(base, base * 10, base * 4, deadline=deadline, floor=base / 10)

    def next(self, previous: float | None, state: str, running_for: float = 0.0) -> float:
        """The wait after a poll that saw ``state``; ``previous`` is None after a change."""
        if state == "IN_PROGRESS":
            return min(self.running_max, max(self.floor, self.running_share * running_for))
        if previous is None:
            return self.base
        return min(self.queued_max, previous * self.factor)


@dataclass
class Flight:
    """What this render last knew about its request (read by the Ctrl-C handler)."""

    entry: JournalEntry
    state: str = "IN_QUEUE"
    said: str = ""
    polls: list[float] = field(default_factory=list)
    streams: int = 0
    running_since: float | None = None

    def saw(self, status: dict[str, Any], progress: Progress) -> bool:
        """Take in one status body, reporting a new progress line; whether the state changed."""
        state = str(status.get("status"))
        changed, self.state = state != self.state, state
        if state == "IN_PROGRESS" and self.running_since is None:
            self.running_since = time.monotonic()
        line = said(status)
        if line and line != self.said:
            self.said = line
            progress(line)
        return changed


class _Dropped(Exception):
    """The stream ended, or said something unreadable, before the request completed."""


class Waiter:
    """Follows requests until they complete, by stream when fal offers it, else by polling."""

    def __init__(self, http: FalHttp, journal: Journal, poll: PollSchedule, stream: bool = True):
        self.http, self.journal, self.poll, self.stream = http, journal, poll, stream

    async def wait(self, flight: Flight, where: Where, progress: Progress) -> dict[str, Any]:
        """The request's COMPLETED status body; past the deadline the shot fails (kept)."""
        try:
            async with asyncio.timeout(self.poll.deadline):
                return await self._until_completed(flight, where, progress)
        except TimeoutError:
            raise self.http.fail(
                where,
                f"request {flight.entry.request_id} has not finished "
                f"after {self.poll.deadline:g} s; it stays journaled: "
                "build again to keep waiting for it",
            ) from None

    async def _until_completed(
        self, flight: Flight, where: Where, progress: Progress
    ) -> dict[str, Any]:
        tries = STREAM_TRIES if self.stream else 0
        interval: float | None = None
        while True:
            if tries > 0:
                opened = time.monotonic()
                done, refused = await self._streamed(flight, progress)
                if done is not None:
                    return done
                healthy = time.monotonic() - opened >= STREAM_HEALTHY
                tries = 0 if refused else tries - (0 if healthy else 1)
            status = await self.status(flight, where)
            changed = flight.saw(status, progress)
            if flight.state == "COMPLETED":
                return status
            if tries > 0:
                continue  # the request is still going: back to the stream at once
            running_for = time.monotonic() - (flight.running_since or time.monotonic())
            interval = self.poll.next(None if changed else interval, flight.state, running_for)
            flight.polls.append(interval)
            await asyncio.sleep(interval)

    async def _streamed(
        self, flight: Flight, progress: Progress
    ) -> tuple[dict[str, Any] | None, bool]:
        """Follow the status stream: (the COMPLETED body or None, whether it was refused)."""
        flight.streams += 1
        url = f"{flight.entry.status_url}/stream"
        try:
            async with self.http.open_stream(url, params={"logs": "1"}) as response:
                if not response.is_success:
                    return None, True
                async for status in self._events(response):
                    flight.saw(status, progress)
                    if flight.state == "COMPLETED":
                        return status, False
        except (Transient, _Dropped, ValueError):
            pass
        return None, False

    async def _events(self, response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
        """Each event's status object (``data:`` lines joined; comments are keep-alives)."""
        data: list[str] = []
        async for line in response.aiter_lines():
            if line.startswith("data:"):
                data.append(line[5:].strip())
            elif not line and data:
                try:
                    status = json.loads("\n".join(data))
                except json.JSONDecodeError:
                    raise _Dropped from None
                data = []
                if not isinstance(status, dict):
                    raise _Dropped
                yield self.http.scrub_value(status)

    async def status(self, flight: Flight, where: Where) -> dict[str, Any]:
        """One poll of the request's status (retried), mapped per docs/faults.md."""
        entry = flight.entry
        response = await self.http.call(
            where,
            f"polling request {entry.request_id}",
            "GET",
            entry.status_url,
            params={"logs": "1"},
        )
        if response.status_code == 404:
            self.journal.clear(entry.key)
            if entry.cancel_requested:  # the cancel we asked for took it away: nothing billed
                return {"status": "COMPLETED", "error": "cancelled"}
            raise self.http.fail(
                where,
                f"fal does not know request {entry.request_id} (HTTP "
                f"404: {server_words(response)}); it was removed from the "
                "journal: build again to submit anew",
            )
        if not response.is_success:
            raise self.http.refusal(response, where, f"polling request {entry.request_id}")
        return self.http.body(response, where, f"polling request {entry.request_id}")


def said(status: dict[str, Any]) -> str:
    """The progress line for a status body: ``queued N`` or ``running: <last log line>``."""
    state = status.get("status")
    if state == "IN_QUEUE":
        position = status.get("queue_position")
        return f"queued {position}" if position is not None else "queued"
    if state == "IN_PROGRESS":
        logs = [log.get("message") for log in status.get("logs") or [] if isinstance(log, dict)]
        last = next((str(m).strip() for m in reversed(logs) if m), "")
        return f"running: {last[:120]}" if last else "running"
    return ""
