"""One build, start to finish: plan → statuses → run → export the film → remember the state."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from pathlib import Path

from .backends import default_backend, make_backend
from .errors import PlanError
from .execute import CUT_ENGINE, FRAME_ENGINE, Listener, Outcome, Runner
from .keys import KEY_SCHEMA, resolve_refs
from .plan import Plan, compile_file
from .state import BuildState, NodeStatus, plan_status
from .store import Store, sha256_file

__all__ = ["BuildResult", "Project", "open_project"]

ENGINES = {"cut": CUT_ENGINE, "frame": FRAME_ENGINE}


@dataclass
class BuildResult:
    """Every node's outcome and where the film went (None when no cut was built)."""

    outcomes: dict[str, Outcome]
    output: Path | None = None
    warnings: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes.values() if o.status == status)

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes.values())


@dataclass
class Project:
    """A compiled storyboard with its cache and backend chosen."""

    plan: Plan
    store: Store
    backend: str

    def status(self) -> list[NodeStatus]:
        return plan_status(self.plan, self.store, self.backend, self._state(), ENGINES)

    def _state(self) -> BuildState:
        return BuildState(self.store, self.plan.path)

    def build(self, *, jobs: int = 2, targets: list[str] | None = None,
              output: Path | None = None, listener: Listener | None = None) -> BuildResult:
        """Render what is missing and assemble the film (unless shot targets are given)."""
        job_ids = self._target_jobs(targets)
        runner = Runner(self.plan, self.store, make_backend(self.backend, self.store.root), jobs=jobs,
                        listener=listener)
        try:
            outcomes = asyncio.run(runner.run(job_ids))
        finally:
            self._remember(runner)
        result = BuildResult(outcomes, warnings=[str(w) for w in self.plan.warnings])
        cut = outcomes.get("cut")
        if cut is not None and cut.ok and cut.output:
            result.output = output or self.plan.output
            _export(self.store, cut.output, result.output)
        return result

    def _target_jobs(self, targets: list[str] | None) -> list[str] | None:
        if not targets:
            return None
        unknown = [t for t in targets if t not in self.plan.final]
        if unknown:
            raise PlanError(f"no shot named {', '.join(unknown)} in {self.plan.path}; "
                            f"shots: {', '.join(self.plan.final)}")
        return [self.plan.final[t] for t in targets]

    def _remember(self, runner: Runner) -> None:
        state = self._state()
        for job_id, outcome in runner.outcomes.items():
            if outcome.ok:
                resolved = resolve_refs(outcome.job.request, runner.content_hash)
                state.remember(job_id, {"key": outcome.key, "request": resolved,
                                        "backend": self.backend, "take": outcome.job.take,
                                        "schema": KEY_SCHEMA})
        state.save()


def open_project(path: Path, *, cache_dir: Path | None = None,
                 backend: str | None = None) -> Project:
    """Compile ``path`` and pick its cache folder and backend (flags, then environment)."""
    plan = compile_file(Path(path))
    root = cache_dir or os.environ.get("GROKREEL_CACHE_DIR") or plan.path.parent / ".grokreel"
    return Project(plan, Store(Path(root)), backend or default_backend())


def _export(store: Store, sha: str, dest: Path) -> None:
    if dest.is_file() and dest.stat().st_size == store.blob_path(sha).stat().st_size \
            and sha256_file(dest) == sha:
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    store.export(sha, dest)
