"""`grokreel watch FILE`: validate, plan and build on every save, and rewrite the review page.

Each build runs as its own ``grokreel build`` process, so a save during a build cancels it exactly
as Ctrl-C does (SIGINT: queued requests cancelled, running ones journaled, finished clips cached)
and the next build resumes what it can. Storyboard errors are printed and the watch goes on. It
never spends money unasked: on the fal backend it needs ``--max-cost`` (applied to every rebuild).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import watchfiles

from .config import find_config
from .errors import GrokreelError, PlanError

__all__ = ["Cycle", "WatchOptions", "Watcher"]

CANCEL_GRACE = 60.0  # seconds a cancelled build has to journal and exit before it is killed


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

    def build_args(self, storyboard: Path) -> list[str]:
        args = [sys.executable, "-m", "grokreel", "build", str(storyboard)]
        args += ["--backend", self.backend, "-j", str(self.jobs)]
        args += ["--draft"] if self.draft else []
        args += ["--max-cost", str(self.max_cost)] if self.max_cost is not None else []
        args += ["--cache-dir", str(self.cache_dir)] if self.cache_dir else []
        return args


@dataclass
class Cycle:
    """One reaction to a save: a storyboard error, or a build and how it ended."""

    trigger: list[str]
    error: str | None = None
    exit_code: int | None = None
    cancelled: bool = False
    seconds: float = 0.0
    lines: list[str] = field(default_factory=list)


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
        self.files: set[Path] = self._inputs()
        self.build: _Build | None = None

    def run(self, stop: threading.Event | None = None) -> None:
        """Build now, then on every change until ``stop`` is set (or Ctrl-C)."""
        stop = stop or threading.Event()
        self._react(["start"])
        try:
            while not stop.is_set():
                self._watch(stop)
        finally:
            self._cancel()

    def _watch(self, stop: threading.Event) -> None:
        """Watch the current files' folders until a change (or until those folders change)."""
        folders = sorted({p.parent for p in self.files if p.parent.is_dir()})
        for changes in watchfiles.watch(
            *folders,
            watch_filter=lambda _change, path: Path(path).resolve() in self.files,
            stop_event=stop,
            recursive=False,
            yield_on_timeout=True,
            rust_timeout=200,
            debounce=150,
            step=30,
        ):
            self._reap()
            if changes:
                self._react(sorted({Path(p).name for _, p in changes}))
                if {p.parent for p in self.files} != set(folders):
                    return  # an asset in a new folder: watch again with that folder

    def _react(self, trigger: list[str]) -> None:
        """A save: cancel the build under way, check the storyboard, start a new build."""
        self._cancel()
        self._say(f"— {time.strftime('%H:%M:%S')} {', '.join(trigger)}")
        try:
            self.files = self._inputs(strict=True)
        except GrokreelError as exc:
            self._say(f"{exc}\nwaiting for the next save…")
            self.on_cycle(Cycle(trigger, error=str(exc)))
            return
        self.build = _Build(trigger, self.options.build_args(self.storyboard), self._say)

    def _inputs(self, strict: bool = False) -> set[Path]:
        """The files whose change means a rebuild; the last good set while the board is broken."""
        from .build import open_project

        found = {self.storyboard}
        try:
            project = open_project(self.storyboard, backend="animatic", draft=self.options.draft)
        except GrokreelError:
            if strict:
                raise
            return found | getattr(self, "files", set())
        found |= {p for p in project.inputs() if not p.name.endswith(".lock")}
        config = find_config(self.storyboard)
        return found | ({config} if config else {self.storyboard.with_name("grokreel.toml")})

    def _reap(self) -> None:
        if self.build is not None and self.build.proc.poll() is not None:
            self._finish(self.build.wait())

    def _cancel(self) -> None:
        if self.build is not None and self.build.proc.poll() is None:
            self._say("a save came in: cancelling the build under way (finished clips are kept)")
            self._finish(self.build.cancel())
        elif self.build is not None:
            self._finish(self.build.wait())

    def _finish(self, cycle: Cycle) -> None:
        self.build = None
        if cycle.cancelled:
            verdict = "cancelled"
        elif cycle.exit_code == 0:
            verdict = f"built in {cycle.seconds:.1f} s"
        else:
            verdict = f"build failed (exit {cycle.exit_code})"
        self._say(f"{verdict}; watching {self.storyboard.name} and {len(self.files) - 1} input(s)")
        self.on_cycle(cycle)

    def _say(self, text: str) -> None:
        print(text, file=self.out, flush=True)


class _Build:
    """One `grokreel build` process, its output copied line by line."""

    def __init__(self, trigger: list[str], args: list[str], say: Callable[[str], None]):
        self.cycle = Cycle(trigger)
        self.start = time.monotonic()
        self.say = say
        self.proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
        )
        self.reader = threading.Thread(target=self._copy, daemon=True)
        self.reader.start()

    def _copy(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.cycle.lines.append(line.rstrip("\n"))
            self.say("  " + line.rstrip("\n"))

    def cancel(self) -> Cycle:
        """Stop it as Ctrl-C would, so its paid requests stay journaled."""
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=CANCEL_GRACE)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.cycle.cancelled = True
        return self.wait()

    def wait(self) -> Cycle:
        self.cycle.exit_code = self.proc.wait()
        self.reader.join()
        self.cycle.seconds = time.monotonic() - self.start
        return self.cycle
