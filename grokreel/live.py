"""The live view of a build on a terminal, built from Rich's progress components.

One task per *running* job (finished ones collapse into counts, so running work is never hidden,
however many jobs the board has), its clock started only when the job starts working (queue wait
is shown as a queue position, not as the job's time), and a total line with jobs done, spend
against the estimate, and elapsed. ``progress.progress_listener`` picks it for a terminal.
"""

from __future__ import annotations

import atexit
from collections import Counter

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Column
from rich.text import Text

from .execute import Outcome
from .plan import Job

__all__ = ["LiveTable", "LiveView"]

_STYLE = {"rendered": "green", "cached": "dim", "failed": "bold red", "skipped": "yellow"}


# States before a job starts working: the executor's, then the fal backend's before fal runs it
# (its inputs uploaded, the request submitted or followed again, its place in the queue).
_WAITING = ("started", "uploading", "submitting", "queued", "resuming", "following", "request ")


class _OneLine(TextColumn):
    """Text as it came (no markup: fal's log lines may hold brackets), cut with … rather than
    wrapped, so each running job stays one line however narrow the terminal."""

    def __init__(self, text_format: str):
        super().__init__(text_format, markup=False, table_column=Column(overflow="ellipsis"))

    def render(self, task: Task) -> Text:
        text = super().render(task)
        text.no_wrap, text.overflow = True, "ellipsis"
        return text


class LiveView:
    """Running jobs as Rich progress tasks over a total line, redrawn in place."""

    def __init__(self, jobs: list[Job], console: Console, estimate: float = 0.0):
        self.jobs = {job.id: job for job in jobs}
        self.console = console
        self.left = len(jobs)
        self.estimate = estimate
        self.spent = 0.0
        self.counts: Counter[str] = Counter()
        self.tasks: dict[str, TaskID] = {}
        self.interrupts: list[str] = []
        self.latest = ""
        self.requested: set[str] = set()  # jobs with a request at the API (queued or running)
        self.running = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}", style="bold", table_column=Column(no_wrap=True)),
            _OneLine("{task.fields[state]}"),
            TimeElapsedColumn(),
            console=console,
            expand=False,
        )
        self.total = Progress(
            TextColumn("{task.description}"),
            BarColumn(bar_width=20),
            MofNCompleteColumn(),
            TextColumn("{task.fields[money]}"),
            TimeElapsedColumn(),
            console=console,
        )
        self.total_id = self.total.add_task("jobs", total=len(jobs), money=self._money())
        self.live = Live(
            console=console,
            get_renderable=self.renderable,
            refresh_per_second=4,
            redirect_stdout=False,
            transient=False,
        )

    def __call__(self, event: Outcome | tuple[Job, str]) -> None:
        if not self.live.is_started:
            self.live.start()
            atexit.register(self.close)  # an unexpected exit: the view left drawn, cursor back
        if isinstance(event, tuple):
            self._state(*event)
        else:
            self._outcome(event)
        self.live.refresh()
        if self.left <= 0:
            self.close()

    def renderable(self) -> RenderableType:
        """Collapsed counts and the total line, then every running job (none is ever cut off)."""
        counts = " · ".join(f"{n} {status}" for status, n in sorted(self.counts.items()))
        parts: list[RenderableType] = [self.total]
        if counts:
            parts.append(Text(f"done: {counts}{self.latest}", style="dim"))
        if len(self.tasks) <= max(1, self.console.height - 4):
            parts.append(self.running)
        else:  # more running jobs than lines: all of them, wrapped, rather than some of them
            parts.append(Text(" · ".join(f"{i} ({self._brief(i)})" for i in self.tasks)))
        return Group(*parts)

    def _brief(self, job_id: str) -> str:
        task = self.running._tasks[self.tasks[job_id]]
        return str(task.fields["state"]).split(":")[0]

    def _state(self, job: Job, state: str) -> None:
        if job.id not in self.tasks:
            what = f"{job.id} [dim]{job.endpoint or job.kind}[/]"
            self.tasks[job.id] = self.running.add_task(what, start=False, state="starting")
        task = self.tasks[job.id]
        self.running.update(task, state=_shown(state))
        working = not state.startswith(_WAITING) or (state == "started" and not job.endpoint)
        if working and self.running._tasks[task].start_time is None:
            self.running.start_task(task)  # its clock starts when it starts working
        if state.startswith(("queued", "running")):
            self.requested.add(job.id)
        if state.startswith("interrupted"):
            self.interrupts.append(f"{job.id}: {state.removeprefix('interrupted: ')}")

    def _outcome(self, outcome: Outcome) -> None:
        task = self.tasks.pop(outcome.job.id, None)
        seconds = outcome.seconds
        if task is not None:
            working = self.running._tasks[task].elapsed  # its own clock: fal's queue left out
            seconds = seconds if working is None else working
            self.running.remove_task(task)
        self.counts[outcome.status] += 1
        took = f" in {seconds:.1f} s" if outcome.status == "rendered" else ""
        self.latest = f"; last: {outcome.job.id} {outcome.status}{took}"
        if outcome.status == "rendered":
            self.spent += outcome.record.get("actual_cost") or outcome.record.get("cost") or 0.0
        self.left -= 1
        self.total.update(self.total_id, advance=1, money=self._money())
        if outcome.error:
            line = Text.assemble(
                (outcome.status, _STYLE.get(outcome.status, "")),
                f" {outcome.job.id}: {outcome.error}",
            )
            self.console.print(line, highlight=False)

    def _money(self) -> str:
        return f"spent ${self.spent:.2f} of ~${self.estimate:.2f}"

    def interrupted(self) -> None:
        """Ctrl-C: one final frame, then what was kept and how to resume."""
        self.close()
        kept = self.counts["rendered"] + self.counts["cached"]
        paid = [i for i in self.tasks if i in self.requested]
        local = len(self.tasks) - len(paid)
        said = [f"interrupted: {kept} finished job(s) stay cached"]
        if paid:
            said.append(f"{len(paid)} request(s) at the API stay journaled ({', '.join(paid)})")
        if local:
            said.append(f"{local} local job(s) stopped")
        said.append("run the same build again to resume without paying twice")
        self.console.print("; ".join(said), highlight=False)
        for line in self.interrupts:
            self.console.print(f"  {line}", highlight=False)

    def close(self) -> None:
        if self.live.is_started:
            self.live.stop()


LiveTable = LiveView  # the former name


def _shown(state: str) -> str:
    """A backend state as the view shows it: a queue position, or the latest log line."""
    if state.startswith("queued "):
        return f"queued, position {state.removeprefix('queued ')}"
    if state == "started":
        return "starting"
    return state
