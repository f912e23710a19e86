"""Build progress for people: a live view on a terminal (live.py), plain lines in logs and CI.

Both are ``execute.Listener``s. Events are a job's ``Outcome`` (cached, rendered, failed, skipped)
or ``(job, state)`` while it runs: ``started``, then whatever its backend reports (``uploading``,
``queued 3``, ``running: <last log line>``, ``downloading``, ``interrupted: …``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TextIO

from .execute import Listener, Outcome
from .plan import Job, Plan
from .report import ConsoleListener

__all__ = ["PlainLines", "progress_listener"]


def progress_listener(
    plan: Plan, shots: Iterable[str] = (), out: TextIO | None = None, estimate: float = 0.0
) -> Listener:
    """The listener for a build of ``shots`` (default: the whole film) writing to ``out``;
    ``estimate`` is the USD the build is expected to spend. Rich is imported only for a terminal:
    a build in CI or a log starts without it."""
    stream = out or sys.stderr
    jobs = _wanted(plan, list(shots))
    if stream.isatty():
        from rich.console import Console

        from .live import LiveView

        return LiveView(jobs, Console(file=stream), estimate)
    return PlainLines(stream, total=len(jobs))


def _wanted(plan: Plan, shots: list[str]) -> list[Job]:
    """The jobs the runner will report on, in plan order (targets plus what they need)."""
    if not shots or any(s not in plan.final for s in shots):
        return plan.jobs()
    wanted = plan.needs([plan.final[s] for s in shots])
    return [job for job in plan.jobs() if job.id in wanted]


class PlainLines(ConsoleListener):
    """One line per change: the console reporter's lines plus each backend state as it changes."""

    def __init__(self, out: TextIO = sys.stderr, total: int = 0):
        super().__init__(out, total)
        self.said: dict[str, str] = {}

    def __call__(self, event: Outcome | tuple[Job, str]) -> None:
        if isinstance(event, tuple) and event[1] != "started":
            job, state = event
            if self.said.get(job.id) != state:
                self.said[job.id] = state
                self._line(f"  {job.id}: {state}")
            return
        super().__call__(event)
