"""What the fal test server does wrong on purpose (``Faults``), and what it records."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["APP", "FAILURES", "WITH_REQUEST_ID", "Call", "Faults", "Submission"]

APP = "/xai/grok-imagine-video"
# What an injected fault can be: an HTTP status, the same status carrying ``x-fal-request-id``
# (as when fal's own runner, not its front door, answers), or a TCP reset with no answer.
FAILURES = ("429", "503", "reset")
WITH_REQUEST_ID = ("429+id", "503+id", "500+id")


@dataclass
class Faults:
    """How the server misbehaves; tests may change any field while it runs.

    Phases: submit, status, stream, result, cancel, token, upload, download, head. A failure kind is
    ``"reset"`` or an HTTP status (``"503"``), optionally carrying ``x-fal-request-id``
    (``"503+id"``).
    """

    latency: dict[str, float] = field(default_factory=dict)  # phase → seconds before answering
    queue_seconds: float = 0.0  # each job waits at least this long IN_QUEUE
    run_seconds: float = 0.0  # and runs at least this long IN_PROGRESS
    concurrency: int = 2  # jobs running at once (fal's default for new accounts)
    flaky: float = 0.0  # share of calls in ``flaky_phases`` that fail with one of ``flaky_kinds``
    flaky_phases: tuple[str, ...] = ("status", "result")
    flaky_kinds: tuple[str, ...] = FAILURES
    retry_after: float = 0.0  # the Retry-After header sent with every 429/503
    bursts: dict[str, list[str]] = field(default_factory=dict)  # phase → next failures, in order
    accept_then_reset: int = 0  # this many next submits create a job, then drop the connection
    download_rate: float | None = None  # bytes per second for file downloads (slow CDN)
    fail_prompts: dict[str, str] = field(default_factory=dict)  # prompt part → COMPLETED + error
    refuse_prompts: tuple[str, ...] = ()  # prompt part → a 422 content-policy result
    reject_key: bool = False  # answer 401 to every keyed call
    echo_key: bool = False  # a careless server: the caller's Authorization in logs and results
    video_host: str | None = None  # results point their video URL at this origin instead
    redirect_downloads: str | None = None  # CDN downloads answer 302 to this origin + path
    cancel_races: int = 0  # this many next cancels of queued jobs find them just started
    cancel_settle: float | None = 0.2  # a cancel-requested job ends cancelled this much later
    #                                    (None: it runs to the end, as fal may let it)
    stream: str = "ok"  # the status stream: "ok", "refuse" (HTTP 405) or "drop" (closed after
    #                     its first event), as a proxy that buffers or cuts long answers would
    keepalive: float = 15.0  # seconds between the stream's comment keep-alives
    # every job's video is this clip (or the clip of the job's resolution), unique per request
    stock_video: Path | dict[str, Path] | None = None
    #                                   (a load test's server: no drawing on this machine's CPU)
    seed: int = 0


@dataclass(frozen=True)
class Submission:
    """One paid job the server accepted."""

    request_id: str
    endpoint: str
    input: dict[str, Any]
    time: float


@dataclass(frozen=True)
class Call:
    """One HTTP call the server received (and the status it answered, 0 for a reset)."""

    method: str
    path: str
    phase: str
    status: int
    at: float = field(default_factory=time.monotonic)  # when it was answered
