"""`grokreel watch FILE`: validate, plan and build on every save, and rewrite the review page.

Rebuilds run in this process, which keeps grokreel imported and warm: a save costs the render of
what changed plus a fraction of a second, not an interpreter start and its imports. Each build
is ``Project.build_async`` running as the task of an event loop on a thread of its own, so the
watch can cancel it: a save during a build cancels that task, which is the path Ctrl-C takes
(queued requests cancelled, running ones journaled, finished clips cached), and the next build
starts with the new file once the cancelled one has let go. Errors are printed as `grokreel build`
prints them (FILE:LINE:COL for a storyboard) and the watch goes on. It never spends money unasked:
on the fal backend it needs ``--max-cost`` (the ceiling of each rebuild).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import watchfiles

from .config import find_config
from .edge import scrub, user_message
from .errors import GrokreelError, PlanError

if TYPE_CHECKING:
    from .build import BuildResult, Project
    from .execute import Listener
    from .state import NodeStatus

__all__ = ["Cycle", "WatchOptions", "Watcher"]

STEP_MS = 50  # quiet time that ends a burst of changes (watchfiles' default): one save, one build
TICK_MS = 200  # how often the watch looks up from waiting: a stop, or a build that crashed


@dataclass(frozen=True)
class WatchOptions:
    """How each rebuild is made."""

    backend: str
    draft: bool = True
    max_cost: float | None = None
    cache_dir: Path | None = None
    jobs: int = 2

    def check(self) -> None:
        """Refuse a watch that could spend money without a ceiling."""
        if self.backend == "fal" and self.max_cost is None:
            raise PlanError(
                "watch rebuilds on every save; on the fal backend that is paid: pass "
                "--max-cost USD (the ceiling of each rebuild) or use --backend animatic"
            )


@dataclass
class Cycle:
    """One reaction to a save: an error (the storyboard's, or one that stopped the build), or a
    build and how it ended. The times are ``time.monotonic()``: when the watch saw the change,
    when the build had written the film, and when the review page was written too (or the build
    stopped), so a save's latency can be measured and taken apart."""

    trigger: list[str]
    seen: float = field(default_factory=time.monotonic)
    error: str | None = None
    result: BuildResult | None = None
    cancelled: bool = False
    cancelled_by: str = ""  # why the watch cancelled it: a save, or the watch stopping
    seconds: float = 0.0  # the build's own time, its start to its film (the page aside)
    review: Path | None = None
    built: float = 0.0
    ended: float = 0.0

    @property
    def ok(self) -> bool:
        return self.result is not None and self.result.ok and not self.cancelled


class Watcher:
    """Watches a storyboard, the assets it uses and its grokreel.toml; rebuilds on change."""

    def __init__(
        self,
        storyboard: Path,
        options: WatchOptions,
        out: TextIO = sys.stderr,
        on_cycle: Callable[[Cycle], None] | None = None,
    ):
        options.check()
        self.storyboard = Path(storyboard).resolve()
        self.options = options
        self.out = out
        self.on_cycle = on_cycle or (lambda cycle: None)
        self.files: set[Path] = {self.storyboard, self.storyboard.with_name("grokreel.toml")}
        self.build: _Build | None = None
        self.stopping = False

    def run(self, stop: threading.Event | None = None) -> None:
        """Build now, then on every change until ``stop`` is set (or Ctrl-C)."""
        stop = stop or threading.Event()
        try:
            self._react(["start"])
            while not stop.is_set():
                self._watch(stop)
        finally:
            self.stopping = True
            self._cancel("stopping")

    def _watch(self, stop: threading.Event) -> None:
        """Watch the current files' folders until a change (or until those folders change)."""
        folders = sorted({p.parent for p in self.files if p.parent.is_dir()})
        for changes in watchfiles.watch(
            *folders,
            watch_filter=lambda _change, path: Path(path).resolve() in self.files,
            stop_event=stop,
            recursive=False,
            yield_on_timeout=True,
            rust_timeout=TICK_MS,
            step=STEP_MS,
        ):
            if self.build is not None and not self.build.running:
                self._reap()
            if changes:
                self._react(sorted({Path(p).name for _, p in changes}))
                if {p.parent for p in self.files} != set(folders):
                    return  # an asset in a new folder: watch again with that folder

    def _react(self, trigger: list[str]) -> None:
        """A save: cancel the build under way, check the storyboard, start a new build."""
        seen = time.monotonic()
        self._cancel("a save came in")
        self._say(f"— {time.strftime('%H:%M:%S')} {', '.join(trigger)}")
        try:
            project = self._open()
        except (GrokreelError, OSError) as exc:
            cycle = Cycle(trigger, seen, error=user_message(exc), ended=time.monotonic())
            if cycle.error is None:
                raise  # a bug: the CLI's edge reports it
            self._say(f"{cycle.error}\nwaiting for the next save…")
            self.on_cycle(cycle)
            return
        self.files = self._inputs(project)
        self.build = _Build(project, self.options, Cycle(trigger, seen), self.out, self._finish)

    def _open(self) -> Project:
        """The storyboard compiled for this watch's backend and tier, as `build` would open it."""
        from .build import open_project

        project = open_project(
            self.storyboard,
            cache_dir=self.options.cache_dir,
            backend=self.options.backend,
            draft=self.options.draft,
        )
        project.plan.check_backend(project.backend)
        for warning in project.plan.warnings:
            self._say(str(warning))
        return project

    def _inputs(self, project: Project) -> set[Path]:
        """The files whose change means a rebuild (the lock file, which builds write, aside)."""
        found = {self.storyboard}
        found |= {p for p in project.inputs() if not p.name.endswith(".lock")}
        config = find_config(self.storyboard)
        return found | ({config} if config else {self.storyboard.with_name("grokreel.toml")})

    def _cancel(self, why: str) -> None:
        """Stop the build under way, if any, and wait until it has let go; ``why`` is said once
        it has stopped (not over a live view still drawing)."""
        if self.build is not None and self.build.running:
            self.build.cycle.cancelled_by = why
            self.build.cancel()
        self._reap()

    def _reap(self) -> None:
        """Forget the build that ended; a bug that ended it is raised here, in the watch's
        thread, where the CLI's edge reports it."""
        build, self.build = self.build, None
        if build is not None and build.crash is not None:
            raise build.crash

    def _finish(self, cycle: Cycle) -> None:
        """The end of a build, however it ended (called on the build's thread)."""
        if cycle.cancelled:
            verdict = f"{cycle.cancelled_by}: build cancelled (finished clips are kept)"
        elif cycle.ok:
            verdict = f"built in {cycle.seconds:.1f} s"
        else:
            verdict = "build stopped" if cycle.error else "build failed"
        if not self.stopping:
            verdict += f"; watching {self.storyboard.name} and {len(self.files) - 1} input(s)"
        self._say(verdict)
        self.on_cycle(cycle)

    def _say(self, text: str) -> None:
        _print(self.out, text)


class _Build:
    """One rebuild on a thread of its own: ``Project.build_async`` as its event loop's task, then
    the review page. ``cancel()``, from the watch's thread, stops it as Ctrl-C would."""

    def __init__(
        self,
        project: Project,
        options: WatchOptions,
        cycle: Cycle,
        out: TextIO,
        done: Callable[[Cycle], None],
    ):
        self.project, self.options, self.cycle = project, options, cycle
        self.out, self.done = out, done
        self.crash: BaseException | None = None  # an unexpected exception: a bug to report
        self._cancelled = threading.Event()
        self._started = threading.Event()  # the task exists (or never will): cancel() may go on
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[BuildResult] | None = None
        self._thread = threading.Thread(target=self._run, name="grokreel-watch-build", daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def cancel(self) -> None:
        """Cancel the build's task and wait for its cleanup to end (Runner.run's ``finally``:
        queued requests cancelled at the API, running ones journaled, finished work kept)."""
        self._cancelled.set()
        self._started.wait()
        if self._loop is not None and self._task is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed: the build ended anyway
                self._loop.call_soon_threadsafe(self._task.cancel)
        self._thread.join()

    def _run(self) -> None:
        """The thread: build, then the page; a failure becomes the cycle's error, a bug a crash."""
        start = time.monotonic()
        try:
            before = self.project.status()
            result = asyncio.run(self._build(_listener(self.project, before, self.out)))
            self.cycle.built = time.monotonic()
            self.cycle.result, self.cycle.seconds = result, self.cycle.built - start
            if not self._cancelled.is_set():  # else the next build writes the page
                self._report(before, result)
        except asyncio.CancelledError:
            self.cycle.cancelled = True
        except Exception as exc:
            self.cycle.error = user_message(exc)
            if self.cycle.error is None:
                self.crash = exc
                return
            _print(self.out, self.cycle.error)
        finally:
            self._started.set()
            self.cycle.ended = time.monotonic()
        self.done(self.cycle)

    async def _build(self, listener: Listener) -> BuildResult:
        """The build as this loop's main task, made known to ``cancel()`` before it starts."""
        self._loop, self._task = asyncio.get_running_loop(), asyncio.current_task()
        self._started.set()
        if self._cancelled.is_set():  # a save came in before the build started
            raise asyncio.CancelledError
        try:
            return await self.project.build_async(
                jobs=self.options.jobs, listener=listener, max_cost=self.options.max_cost
            )
        except asyncio.CancelledError:
            interrupted = getattr(listener, "interrupted", None)  # the live view: what was kept
            if interrupted is not None:
                interrupted()
            raise

    def _report(self, before: list[NodeStatus], result: BuildResult) -> None:
        """What `grokreel build` says after a build: new warnings, the review page, a summary."""
        from .report import build_summary
        from .review import review_after_build

        self.cycle.review = review_after_build(self.project, before, result)
        if self.cycle.review is not None:
            _print(self.out, f"review: {self.cycle.review}")
        for note in result.warnings[len(self.project.plan.warnings) :]:
            _print(self.out, f"warning: {note}")
        _print(self.out, build_summary(result))


def _listener(project: Project, before: list[NodeStatus], out: TextIO) -> Listener:
    """The build's progress view (live on a terminal, plain lines in a log), as `build` has."""
    from .progress import progress_listener

    spend = sum(s.cost for s in before) if project.backend != "animatic" else 0.0
    return progress_listener(project.plan, out=out, estimate=spend)


def _print(out: TextIO, text: str) -> None:
    """A line for the person watching, with any API key blanked (as the CLI's edge does)."""
    print(scrub(text), file=out, flush=True)
