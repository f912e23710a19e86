"""The fal backend: Grok Imagine Video through fal's queue, journaled so no clip is paid twice.

    render(request)
      ├─ journaled?  yes → resume polling that request (no new submit)
      │              no  → media to URLs (fal_upload) → submit → journal the request id at once
      ├─ follow the status stream (polling when fal refuses or drops it; fal_wait) →
      │  "queued N", "running: <log line>"
      ├─ COMPLETED with error → the shot fails, the entry leaves the journal
      ├─ COMPLETED → GET response_url (retried: it is free), tell ``request.named`` the clip's
      │              URL (a next link is submitted with it), then stream the video into
      │              workdir; verify size, a real decode and the duration
      └─ any fault fetching a finished clip keeps the entry: the next build fetches, never pays
    Ctrl-C: a request still IN_QUEUE is cancelled (fal does not bill queue time) and forgotten
    once fal confirms; one that is running or done stays journaled, and the next build picks it
    up. docs/faults.md tabulates every answer of every call.

Environment: FAL_KEY (or FAL_KEY_ID + FAL_KEY_SECRET), GROKREEL_FAL_QUEUE_URL,
GROKREEL_FAL_REST_URL, GROKREEL_FAL_POLL_INTERVAL (first poll interval, s; default 0.5),
GROKREEL_FAL_DEADLINE (how long one build waits for one request, s; default 3600).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from .. import api
from ..cache.claims import Claims
from ..cache.journal import Journal, JournalEntry
from ..cache.tier import Tier
from ..errors import BackendError, MediaError, PlanError
from ..slots import off_loop
from .base import MAX_IN_FLIGHT, Progress, RenderRequest, RenderResult, fal_key, no_fal_key
from .fal_http import RETRY_STATUS, FalHttp, Gone, RetryPolicy, Where
from .fal_upload import Uploads
from .fal_wait import Flight, PollSchedule, Waiter, said

__all__ = ["DEFAULT_QUEUE_URL", "DEFAULT_REST_URL", "FalBackend", "PollSchedule"]

T = TypeVar("T")
DEFAULT_QUEUE_URL = "https://queue.fal.run"
DEFAULT_REST_URL = "https://rest.fal.ai"
CANCEL_SECONDS = 10.0  # how long Ctrl-C waits for fal to confirm a cancel
DURATION_SLACK = 0.5  # seconds a decoded clip may differ from what fal says it is
# A finished job's result is fetched again on these too: 400 is fal's "still in progress" race.
RESULT_RETRY = RETRY_STATUS | {400}


class FalBackend:
    """Renders on fal.ai's queue; see the module docstring for the life of one request."""

    name = "fal"

    def __init__(
        self,
        key: str,
        cache_dir: Path,
        *,
        queue_url: str = DEFAULT_QUEUE_URL,
        rest_url: str = DEFAULT_REST_URL,
        poll: PollSchedule | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        cancel_wait: float = CANCEL_SECONDS,
        max_in_flight: int = MAX_IN_FLIGHT,
        stream: bool = True,
    ):
        if not key:
            raise no_fal_key()
        self.http = FalHttp(
            key, queue_url, rest_url, timeout=timeout, retry=retry, max_in_flight=max_in_flight
        )
        self.journal = Journal(cache_dir)
        self.uploads = Uploads(self.http, cache_dir)
        self.poll = poll or PollSchedule()
        self.waiter = Waiter(self.http, self.journal, self.poll, stream)
        self.cancel_wait = cancel_wait  # how long Ctrl-C follows a cancel fal has not settled

    @classmethod
    def from_env(cls, cache_dir: Path, *, max_in_flight: int = MAX_IN_FLIGHT) -> FalBackend:
        """The backend configured by the environment; a missing key is an AuthError."""
        env = os.environ
        poll = PollSchedule.scaled(
            _seconds("GROKREEL_FAL_POLL_INTERVAL", 0.5), _seconds("GROKREEL_FAL_DEADLINE", 3600.0)
        )
        return cls(
            fal_key(),
            cache_dir,
            poll=poll,
            queue_url=env.get("GROKREEL_FAL_QUEUE_URL") or DEFAULT_QUEUE_URL,
            rest_url=env.get("GROKREEL_FAL_REST_URL") or DEFAULT_REST_URL,
            max_in_flight=max_in_flight,
        )

    def __repr__(self) -> str:
        return f"FalBackend(queue_url={self.http.queue_url!r}, journal={str(self.journal.root)!r})"

    async def release(self, key: str, output: str) -> None:
        await off_loop(self.journal.settle, key, output)

    async def aclose(self) -> None:
        await self.http.aclose()

    # -- one render ------------------------------------------------------------------------------
    async def render(
        self, request: RenderRequest, workdir: Path, progress: Progress
    ) -> RenderResult:
        where = Where(request.shot, request.endpoint_id)
        entry = self._journaled(request) or await self._claimed_elsewhere(request, progress)
        if entry is not None:
            progress(f"resuming {entry.request_id}")
            flight = Flight(entry, state="UNKNOWN")  # never cancel what may already be running
            result = await self._follow(flight, request, workdir, where, progress)
            if result is not None:
                return result
            progress(f"request {entry.request_id} was cancelled unbilled; submitting anew")
            if await self._claimed_elsewhere(request, progress) is not None:
                raise self.http.fail(where, "another machine took this job over; build again")
        body = await self._inputs(request, where, progress)  # Ctrl-C here costs nothing
        entry, interrupted = await _settle(self._submit(request, body, where, progress))
        flight = Flight(entry)
        if interrupted:  # Ctrl-C during the submit: the request exists and is queued
            await _settle(self._interrupted(flight, progress))
            raise asyncio.CancelledError
        result = await self._follow(flight, request, workdir, where, progress)
        if result is None:
            raise self.http.fail(where, f"request {entry.request_id} was cancelled on fal")
        return result

    async def _follow(
        self,
        flight: Flight,
        request: RenderRequest,
        workdir: Path,
        where: Where,
        progress: Progress,
    ) -> RenderResult | None:
        """Wait for a journaled request, fetch its clip; None if it ended cancelled by us."""
        entry = flight.entry
        try:
            status = await self.waiter.wait(flight, where, progress)
            if status.get("error") and entry.cancel_requested:
                self.journal.clear(entry.key)  # our own cancel took effect: nothing was billed
                return None
            video = await self._result(flight, status, where)
            flight.state = "DOWNLOADING"
            if request.named is not None and self.http.hosts.allows(video["url"]):
                request.named(entry.request_id, video["url"])  # a next link goes out meanwhile
            path = await self._download(video, request, workdir, where, progress)
        except asyncio.CancelledError:
            await _settle(self._interrupted(flight, progress))
            raise
        except BackendError as exc:
            raise self._still_journaled(exc, flight) from None
        extra = {
            "fal": {
                "request_id": entry.request_id,
                "polls": len(flight.polls),
                "streams": flight.streams,
                "metrics": status.get("metrics") or {},
            }
        }
        return RenderResult(path, video, entry.request_id, video["url"], extra)

    def _still_journaled(self, exc: BackendError, flight: Flight) -> BackendError:
        """Tell the user when a failed render's paid request is kept for the next build."""
        entry = flight.entry
        if self.journal.get(entry.key) is None or "journaled" in str(exc):
            return exc
        if flight.state in ("COMPLETED", "DOWNLOADING"):
            tail = (
                f"request {entry.request_id} finished and is paid for; it stays journaled "
                "and the next build fetches its clip without paying again"
            )
        else:
            tail = f"request {entry.request_id} stays journaled: build again to resume it"
        exc.args = (f"{exc}; {tail}",)
        return exc

    def share(self, remote: Tier) -> None:
        """Share the paid-request journal through ``remote``: one submit per job across every
        machine using it (cache/claims.py)."""
        self.journal.claims = Claims(remote)

    async def _claimed_elsewhere(
        self, request: RenderRequest, progress: Progress
    ) -> JournalEntry | None:
        """Claim the job before submitting; another machine's request for it, if it has one,
        is journaled here and followed instead of paid for again."""
        if self.journal.claims is None:
            return None
        entry = await self.journal.claims.take(request.key, fresh=request.variation == 0)
        if entry is not None:
            progress(f"following request {entry.request_id} of another machine")
            self.journal.record(entry, share=False)
        return entry

    def _journaled(self, request: RenderRequest) -> JournalEntry | None:
        """A request this cache already paid for, if it was made on the same fal host. One an
        older grokreel journaled under the cache key moves to the request key."""
        entry = self.journal.get(request.key)
        if entry is None and request.cache_key and request.cache_key != request.key:
            entry = self.journal.get(request.cache_key)
            if entry is not None:
                self.journal.record(replace(entry, key=request.key))
                self.journal.clear(request.cache_key)
                entry = replace(entry, key=request.key)
        return entry if entry and entry.queue_url == self.http.queue_url else None

    async def _inputs(
        self, request: RenderRequest, where: Where, progress: Progress
    ) -> dict[str, Any]:
        """The request body: every ``job:``/``file:`` ref replaced by a URL fal can read."""
        refs = sorted(request.media)
        urls = await asyncio.gather(
            *(self.uploads.url_for(request.media[r], where, progress) for r in refs)
        )
        resolved = dict(zip(refs, urls, strict=True))

        def url(value: str) -> str:
            if value in resolved or value.startswith(("http://", "https://", "data:")):
                return resolved.get(value, value)
            raise self.http.fail(where, f"no media was provided for {value}")

        body = dict(request.input)
        for name in api.FILE_FIELDS & body.keys():
            value = body[name]
            body[name] = [url(v) for v in value] if isinstance(value, list) else url(value)
        return body

    async def _submit(
        self, request: RenderRequest, body: dict[str, Any], where: Where, progress: Progress
    ) -> JournalEntry:
        """POST the paid request and journal its id before anything else can happen."""
        progress("submitting")
        answer = await self.http.submit(
            where,
            f"{self.http.queue_url}/{request.endpoint_id}",
            body,
            {"x-app-fal-disable-fallback": "true"},
        )
        entry = JournalEntry(
            request.key,
            request.shot,
            request.endpoint_id,
            str(answer["request_id"]),
            answer["status_url"],
            answer["response_url"],
            answer.get("cancel_url") or "",
            self.http.queue_url,
        )
        try:
            # On the loop, not in a thread: no other call can happen between fal's answer and
            # this write, so no kill timed by another job's call can land in between.
            self.journal.record(entry)
        except OSError as exc:
            raise self.http.fail(
                where,
                f"fal queued request {entry.request_id} but it could not "
                f"be journaled ({exc}); its clip will not be resumed",
            ) from None
        progress(said(answer) or "queued")
        return entry

    async def _result(self, flight: Flight, status: dict[str, Any], where: Where) -> dict[str, Any]:
        """The finished job's video. The status is the authority on failure (there is no FAILED
        status: a failed job is COMPLETED with ``error``); a result GET is free and idempotent,
        so while the status says success, only a 404 or a 422 ends the request."""
        entry = flight.entry
        what = f"fetching the result of request {entry.request_id}"
        if status.get("error"):
            raise await self._failed(entry, status, where)
        response = await self.http.call(
            where, what, "GET", entry.response_url, retry_status=RESULT_RETRY
        )
        if response.status_code in (404, 422):
            self.journal.clear(entry.key)  # fal no longer knows it, or refused it: nothing to fetch
        if not response.is_success:
            raise self.http.refusal(response, where, what)
        try:
            output = api.VideoOutput.model_validate(self.http.body(response, where, what))
        except ValidationError as exc:
            raise self.http.fail(
                where,
                f"the result of request {entry.request_id} is not a "
                f"video: {exc.errors()[0]['msg']}",
            ) from None
        return output.video.model_dump(mode="json", exclude_none=True)

    async def _failed(
        self, entry: JournalEntry, status: dict[str, Any], where: Where
    ) -> BackendError:
        """The error for a request whose status reports it failed, with the result's words
        when they can be had; the request is over, so it leaves the journal."""
        self.journal.clear(entry.key)
        try:
            response = await self.http.call(
                where, "fetching the error", "GET", entry.response_url, retry_status=frozenset()
            )
        except BackendError:
            response = None
        if response is not None and not response.is_success:
            return self.http.refusal(response, where, f"request {entry.request_id}")
        said = status.get("error_type") or "no type"
        return self.http.fail(
            where, f"fal reports request {entry.request_id} failed: {status['error']} ({said})"
        )

    async def _download(
        self,
        video: dict[str, Any],
        request: RenderRequest,
        workdir: Path,
        where: Where,
        progress: Progress,
    ) -> Path:
        """The clip into ``workdir``, verified: a fal URL is not a place to keep a paid clip."""
        progress("downloading")
        dest = workdir / f"{request.job_id}.mp4"
        try:
            size = await self.http.download(where, video["url"], dest)
            self.uploads.downloaded(video["url"], size)
        except Gone:
            self.journal.clear(request.key)  # nothing left to fetch: the next build renders anew
            raise
        expected = video.get("file_size")
        if expected is not None and expected != size:
            raise self.http.fail(
                where,
                f"the downloaded video has {size} bytes, fal said "
                f"{expected}; it stays journaled: build again to retry",
            )
        from ..media.probe import probe

        try:
            info = await asyncio.to_thread(probe, dest)
        except MediaError as exc:
            raise self.http.fail(where, f"the downloaded video does not decode: {exc}") from None
        said = video.get("duration")
        if said is not None and abs(info.duration - float(said)) > DURATION_SLACK:
            raise self.http.fail(
                where, f"the downloaded video lasts {info.duration:.2f} s, fal said {said} s"
            )
        return dest

    # -- Ctrl-C ----------------------------------------------------------------------------------
    async def _interrupted(self, flight: Flight, progress: Progress) -> None:
        """Cancel a request still waiting in the queue; leave a running one journaled."""
        entry = flight.entry
        if flight.state != "IN_QUEUE" or not entry.cancel_url:
            progress(
                f"interrupted: request {entry.request_id} is "
                f"{_WHERE_IT_IS.get(flight.state, 'running')} on fal; it stays journaled "
                "and the next build resumes it"
            )
            return
        answer = await self._cancel(entry)
        if answer == "CANCELLATION_REQUESTED":
            self.journal.record(replace(entry, cancel_requested=True))
            answer = await self._cancel_settled(entry)
        if answer in ("OK", "NOT_FOUND", "CANCELLED"):
            self.journal.clear(entry.key)
            progress(f"interrupted: cancelled queued request {entry.request_id} (not billed)")
        elif answer == "FINISHED":
            progress(
                f"interrupted: request {entry.request_id} finished before the cancel took "
                "effect; it stays journaled and the next build fetches its clip"
            )
        else:
            progress(
                f"interrupted: request {entry.request_id} could not be cancelled ({answer}); "
                "it stays journaled and the next build resumes it"
            )

    async def _cancel(self, entry: JournalEntry) -> str:
        """``PUT cancel_url`` once, briefly; fal's answer (OK, CANCELLATION_REQUESTED, ...)."""
        try:
            response = await asyncio.wait_for(
                self.http.send("PUT", entry.cancel_url), CANCEL_SECONDS
            )
            answer = response.json().get("status")
        except Exception as exc:  # on any doubt the entry stays journaled
            return f"no answer: {type(exc).__name__}"
        return str(answer or f"HTTP {response.status_code}")

    async def _cancel_settled(self, entry: JournalEntry) -> str:
        """Follow a CANCELLATION_REQUESTED up until the status settles (briefly): CANCELLED when
        it ended with an error, FINISHED when it made a clip after all, else still pending."""
        deadline = time.monotonic() + self.cancel_wait
        while time.monotonic() < deadline:
            try:
                response = await asyncio.wait_for(
                    self.http.send("GET", entry.status_url), CANCEL_SECONDS
                )
                status = response.json() if response.status_code != 404 else {"status": "GONE"}
            except Exception:  # a fault while settling: keep the journaled entry, say so
                status = {}
            if status.get("status") == "GONE":
                return "NOT_FOUND"
            if status.get("status") == "COMPLETED":
                return "CANCELLED" if status.get("error") else "FINISHED"
            await asyncio.sleep(0.2)
        return "CANCELLATION_REQUESTED, not settled yet"


_WHERE_IT_IS = {
    "IN_PROGRESS": "running",
    "COMPLETED": "finished",
    "DOWNLOADING": "finished",
    "UNKNOWN": "in flight",
}


async def _settle(work: Awaitable[T]) -> tuple[T, bool]:
    """Await ``work`` to its end even if this task is cancelled meanwhile (a submit must learn
    its request id; a cancel must reach fal); also say whether a cancellation arrived."""
    task = asyncio.ensure_future(work)
    interrupted = False
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            interrupted = True
    try:
        return task.result(), interrupted
    except Exception:
        if interrupted:
            raise asyncio.CancelledError from None
        raise


def _seconds(name: str, default: float) -> float:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if seconds <= 0:
        raise PlanError(f"{name} must be a positive number of seconds, not {value!r}")
    return seconds
