"""Build progress for people: a live table on a terminal, plain lines in logs and CI.

Both are ``execute.Listener``s. Events are a job's ``Outcome`` (cached, rendered, failed, skipped)
or ``(job, state)`` while it runs: ``started``, then whatever its backend reports (``uploading``,
``queued 3``, ``running: <last log line>``, ``downloading``, ``interrupted: …``).
"""

from __future__ import annotations

import atexit
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TextIO

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from .execute import Listener, Outcome
from .plan import Job, Plan
from .report import ConsoleListener

__all__ = ["LiveTable", "PlainLines", "progress_listener"]

_STYLE = {"rendered": "green", "cached": "dim", "failed": "bold red", "skipped": "yellow"}


def progress_listener(plan: Plan, shots: Iterable[str] = (), out: TextIO | None = None) -> Listener:
    """The listener for a build of ``shots`` (default: the whole film) writing to ``out``."""
    stream = out or sys.stderr
    jobs = _wanted(plan, list(shots))
    if stream.isatty():
        return LiveTable(jobs, Console(file=stream))
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


@dataclass
class _Row:
    job: Job
    state: str = "waiting"
    style: str = "dim"
    since: float | None = None
    took: float | None = None

    def elapsed(self, now: float) -> str:
        if self.took is not None:
            return f"{self.took:.1f} s"
        return f"{now - self.since:.1f} s" if self.since is not None else ""


class LiveTable:
    """A Rich table with one row per job (state and elapsed time), redrawn in place."""

    def __init__(self, jobs: list[Job], console: Console):
        self.rows = {job.id: _Row(job) for job in jobs}
        self.console = console
        self.start = time.monotonic()
        self.left = len(self.rows)
        self.live = Live(
            console=console, get_renderable=self._table, refresh_per_second=4, redirect_stdout=False
        )

    def __call__(self, event: Outcome | tuple[Job, str]) -> None:
        if not self.live.is_started:
            self.live.start()
            atexit.register(self.close)  # Ctrl-C: the table is left drawn, the cursor restored
        if isinstance(event, tuple):
            self._state(*event)
        else:
            self._outcome(event)
        self.live.refresh()
        if self.left <= 0:
            self.close()

    def _row(self, job: Job) -> _Row:
        return self.rows.setdefault(job.id, _Row(job))

    def _state(self, job: Job, state: str) -> None:
        row = self._row(job)
        row.since = row.since or time.monotonic()
        row.state, row.style = ("starting" if state == "started" else state), ""
        if state.startswith("interrupted"):
            self.console.print(Text(f"{job.id}: {state}"), highlight=False)

    def _outcome(self, outcome: Outcome) -> None:
        row = self._row(outcome.job)
        row.state, row.style = outcome.status, _STYLE.get(outcome.status, "")
        row.took = outcome.seconds if outcome.status == "rendered" else None
        self.left -= 1
        if outcome.error:
            line = Text.assemble(
                (outcome.status, _STYLE.get(outcome.status, "")),
                f" {outcome.job.id}: {outcome.error}",
            )
            self.console.print(line, highlight=False)

    def _table(self) -> Table:
        now = time.monotonic()
        done = len(self.rows) - self.left
        table = Table(
            title=f"{done}/{len(self.rows)} done · {now - self.start:.0f} s",
            title_justify="left",
            expand=False,
            box=None,
        )
        for name in ("job", "what", "state", "time"):
            table.add_column(name, no_wrap=name != "state", overflow="ellipsis")
        for row in self.rows.values():
            what = row.job.endpoint or row.job.kind
            table.add_row(row.job.id, what, row.state, row.elapsed(now), style=row.style)
        return table

    def close(self) -> None:
        if self.live.is_started:
            self.live.stop()
