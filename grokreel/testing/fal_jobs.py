"""The test server's queue: jobs wait, run (drawn by the animatic renderer) and complete.

One dispatcher thread moves jobs along like fal's queue does: FIFO, at most ``concurrency``
running, each waiting at least ``queue_seconds`` and running at least ``run_seconds``. Rendering
happens in a thread per running job; its inputs must be files on the server's own CDN, exactly as
fal needs URLs it can fetch.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import struct
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import api
from ..backends.animatic import AnimaticBackend
from ..backends.base import MediaInput, RenderRequest
from ..errors import GrokreelError

__all__ = ["Job", "Queue"]

Resolve = Callable[[str], Path | None]  # a CDN URL → the local file behind it (None: not ours)
Publish = Callable[[Path | bytes, str], str]  # a rendered file (or bytes), its name → its CDN URL


@dataclass
class Job:
    """One submitted request, as the queue sees it."""

    request_id: str
    endpoint: str
    input: dict[str, Any]
    submitted: float = field(default_factory=time.monotonic)
    status: str = "IN_QUEUE"
    started: float | None = None
    completed: float | None = None  # when it became COMPLETED (time.monotonic)
    rendered: bool = False
    cancelled: bool = False
    video: dict[str, Any] | None = None
    error: dict[str, Any] | None = None  # {"code", "body", "message", "type"} of a failed job
    cancel_at: float | None = None  # a requested cancel of a running job takes effect then
    logs: list[dict[str, Any]] = field(default_factory=list)

    def log(self, message: str) -> None:
        self.logs.append(
            {
                "message": message,
                "level": "INFO",
                "source": "user",
                "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S"),
            }
        )


class Queue:
    """Jobs by request id, moved along by one dispatcher thread until ``stop``."""

    def __init__(self, faults: Any, resolve: Resolve, publish: Publish, scratch: Path):
        self.faults, self.resolve, self.publish = faults, resolve, publish
        self.scratch = scratch
        self.jobs: dict[str, Job] = {}
        self.lock = threading.RLock()
        self._changed = threading.Condition(self.lock)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._dispatch, name="fal-queue", daemon=True)
        self._renders: list[threading.Thread] = []

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop moving jobs and wait (boundedly) for the ones being drawn."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        for thread in self._renders:
            thread.join(timeout=10)

    def submit(self, endpoint: str, data: dict[str, Any]) -> Job:
        job = Job(str(uuid.uuid4()), endpoint, data)
        with self.lock:
            self.jobs[job.request_id] = job
        return job

    def position(self, job: Job) -> int:
        """0-based place among the jobs still waiting (fal's ``queue_position``)."""
        with self.lock:
            waiting = [j for j in self.jobs.values() if j.status == "IN_QUEUE"]
            return waiting.index(job) if job in waiting else 0

    def cancel(self, request_id: str) -> tuple[int, str]:
        """fal's cancel: queued → removed (OK); running → CANCELLATION_REQUESTED, and the job
        ends cancelled ``cancel_settle`` s later; done → 400 ALREADY_COMPLETED."""
        with self.lock:
            job = self.jobs.get(request_id)
            if job is None:
                return 404, "NOT_FOUND"
            if job.status == "COMPLETED":
                return 400, "ALREADY_COMPLETED"
            if job.status == "IN_QUEUE" and self.faults.cancel_races > 0:
                self.faults.cancel_races -= 1  # it starts just as the cancel arrives
                self._start(job, time.monotonic())
            if job.status == "IN_PROGRESS":
                if self.faults.cancel_settle is not None:
                    job.cancel_at = time.monotonic() + self.faults.cancel_settle
                return 202, "CANCELLATION_REQUESTED"
            self._end_cancelled(job)
            return 200, "OK"

    @staticmethod
    def _end_cancelled(job: Job) -> None:
        job.status, job.cancelled, job.completed = "COMPLETED", True, time.monotonic()
        job.error = {"code": 400, "message": "Request was cancelled", "type": "cancelled"}

    def wait_change(self, seconds: float) -> None:
        """Sleep until a job changes state (a status stream's wake-up), at most ``seconds``."""
        with self._changed:
            self._changed.wait(seconds)

    def counts(self) -> dict[str, int]:
        with self.lock:
            out: dict[str, int] = {}
            for job in self.jobs.values():
                out[job.status] = out.get(job.status, 0) + 1
            return out

    # -- the dispatcher --------------------------------------------------------------------------
    def _dispatch(self) -> None:
        while not self._stop.wait(0.01):
            now = time.monotonic()
            with self.lock:
                running = [j for j in self.jobs.values() if j.status == "IN_PROGRESS"]
                for job in running:
                    if job.cancel_at is not None and now >= job.cancel_at:
                        self._end_cancelled(job)
                    elif job.rendered and now - (job.started or now) >= self.faults.run_seconds:
                        job.status, job.completed = "COMPLETED", time.monotonic()
                        job.log("done")
                waiting = [j for j in self.jobs.values() if j.status == "IN_QUEUE"]
                free = self.faults.concurrency - (len(running) - self._finished(running))
                for job in waiting[: max(0, free)]:
                    if now - job.submitted >= self.faults.queue_seconds:
                        self._start(job, now)
                self._changed.notify_all()

    @staticmethod
    def _finished(jobs: list[Job]) -> int:
        return sum(1 for j in jobs if j.status == "COMPLETED")

    def _start(self, job: Job, now: float) -> None:
        job.status, job.started = "IN_PROGRESS", now
        job.log("starting grok-imagine-video")
        thread = threading.Thread(
            target=self._render, args=(job,), name=f"render-{job.request_id[:8]}", daemon=True
        )
        self._renders.append(thread)
        thread.start()

    def _render(self, job: Job) -> None:
        try:
            job.video = self._draw(job)
            job.log(f"rendered {job.video.get('num_frames')} frames")
        except _JobFailed as exc:
            job.error = exc.error
        except GrokreelError as exc:
            job.error = {"code": 500, "message": f"Internal error: {exc}", "type": "runner_error"}
        finally:
            job.rendered = True

    def _draw(self, job: Job) -> dict[str, Any]:
        prompt = str(job.input.get("prompt", ""))
        for needle, message in self.faults.fail_prompts.items():
            if needle in prompt:
                raise _JobFailed({"code": 500, "message": message, "type": "generation_error"})
        if any(needle in prompt for needle in self.faults.refuse_prompts):
            raise _JobFailed(_policy_violation(prompt))
        stock = self.faults.stock_video
        if isinstance(stock, dict):  # a real render has the resolution asked for
            stock = stock.get(str(job.input.get("resolution", "720p")))
        if stock:
            return self._stock(job, Path(stock))
        request = self._request(job)
        workdir = self.scratch / job.request_id
        workdir.mkdir(parents=True, exist_ok=True)
        result = asyncio.run(AnimaticBackend().render(request, workdir, job.log))
        video = dict(result.video)
        video["url"] = self.publish(result.path, f"{job.request_id[:8]}.mp4")
        video["file_name"] = f"{job.request_id[:8]}.mp4"
        return video

    def _stock(self, job: Job, stock: Path) -> dict[str, Any]:
        """``stock`` with a trailing MP4 ``free`` box naming the request: the same pictures,
        but bytes (and so cache keys downstream) of its own, as every real render has."""
        tag = job.request_id.encode()
        data = stock.read_bytes() + struct.pack(">I", 8 + len(tag)) + b"free" + tag
        name = f"{job.request_id[:8]}.mp4"
        video = _described(stock) | {"file_name": name, "file_size": len(data)}
        return video | {"url": self.publish(data, name)}

    def _request(self, job: Job) -> RenderRequest:
        """The job as an animatic request: every input URL must be a file on our own CDN."""
        media: dict[str, MediaInput] = {}
        for name in sorted(api.FILE_FIELDS & job.input.keys()):
            value = job.input[name]
            for url in value if isinstance(value, list) else [value]:
                path = self.resolve(url)
                if path is None:
                    raise _JobFailed(_unfetchable(name, url))
                media[url] = MediaInput(url, path, hashlib.sha256(url.encode()).hexdigest())
        seed = hashlib.sha256(json.dumps([job.endpoint, job.input], sort_keys=True).encode())
        return RenderRequest(
            job.request_id,
            job.request_id,
            job.endpoint,
            api.endpoint_id(job.endpoint),
            job.input,
            media,
            seed.hexdigest(),
        )


@functools.cache
def _described(path: Path) -> dict[str, Any]:
    from ..media.probe import probe

    info = probe(path)
    return {
        "content_type": "video/mp4",
        "width": info.width,
        "height": info.height,
        "fps": info.fps,
        "duration": info.duration,
        "num_frames": info.num_frames,
    }


class _JobFailed(Exception):
    def __init__(self, error: dict[str, Any]):
        super().__init__(error["message"])
        self.error = error


def _policy_violation(prompt: str) -> dict[str, Any]:
    detail = [
        {
            "loc": ["body", "prompt"],
            "msg": "The prompt was flagged by the content checker",
            "type": "content_policy_violation",
            "input": prompt,
        }
    ]
    return {
        "code": 422,
        "detail": detail,
        "message": "content policy violation",
        "type": "content_policy_violation",
    }


def _unfetchable(name: str, url: str) -> dict[str, Any]:
    detail = [
        {
            "loc": ["body", name],
            "msg": f"Failed to download the file at {url}",
            "type": "file_download_error",
            "input": url,
        }
    ]
    return {
        "code": 422,
        "detail": detail,
        "message": "file download failed",
        "type": "file_download_error",
    }
