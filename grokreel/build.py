"""One build, start to finish: plan → statuses → checks (lock, budget) → run → export → remember."""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx

from .backends import MAX_IN_FLIGHT, default_backend, make_backend
from .cache.lock import LockFile, lock_path
from .cache.remote import Remote, open_remote, remote_url
from .cache.store import Store, atomic_write_text, sha256_file
from .config import find_config, load_config, project_root
from .cost import PriceTable, load_prices
from .errors import PathError, PlanError
from .keys import ENGINES, KEY_SCHEMA, resolve_refs
from .plan import Plan, compile_file
from .state import BuildState, NodeStatus, plan_status

if TYPE_CHECKING:  # the runner and asyncio are imported when a build runs, not for `plan`
    from .execute import Listener, Outcome, Runner

__all__ = ["BuildResult", "Project", "open_project"]


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

    @property
    def estimated_cost(self) -> float:
        """Estimated USD of the jobs this build rendered."""
        return round(
            sum(
                o.record.get("cost") or 0.0
                for o in self.outcomes.values()
                if o.status == "rendered"
            ),
            4,
        )

    @property
    def actual_cost(self) -> float | None:
        """USD the API reported for this build's renders, when it reports any."""
        reported = [
            o.record["actual_cost"]
            for o in self.outcomes.values()
            if o.status == "rendered" and o.record.get("actual_cost") is not None
        ]
        return round(sum(reported), 4) if reported else None


@dataclass
class Project:
    """A compiled storyboard with its cache, backend, lock file and prices."""

    plan: Plan
    store: Store
    backend: str
    prices: PriceTable = field(default_factory=PriceTable)

    @property
    def lock(self) -> LockFile:
        return LockFile.read(self.plan.path)

    def status(self, force: list[str] | None = None) -> list[NodeStatus]:
        """Each node as cached / new / stale with its reasons and estimated cost (no rendering)."""
        return self._statuses(self.forced(force))

    def _statuses(self, forced: frozenset[str]) -> list[NodeStatus]:
        return plan_status(
            self.plan,
            self.store,
            self.backend,
            self._state(),
            ENGINES,
            self.lock,
            self.prices,
            forced,
        )

    def _state(self) -> BuildState:
        return BuildState(self.store, self.plan.path, "draft" if self.plan.draft else "")

    def forced(self, shots: list[str] | None) -> frozenset[str]:
        """Job ids a --force of ``shots`` re-renders: each shot's jobs and everything downstream."""
        ids: set[str] = set()
        for job_id in self.target_jobs(shots) or []:
            shot = self.plan.job(job_id).shot
            own = {j.id for j in self.plan.jobs() if j.shot == shot and j.endpoint}
            ids |= own
            for one in own:
                ids |= nx.descendants(self.plan.graph, one)
        return frozenset(ids)

    def target_jobs(self, targets: list[str] | None) -> list[str] | None:
        if not targets:
            return None
        unknown = [t for t in targets if t not in self.plan.final]
        if unknown:
            raise PlanError(
                f"no shot named {', '.join(unknown)} in {self.plan.path}; "
                f"shots: {', '.join(self.plan.final)}"
            )
        return [self.plan.final[t] for t in targets]

    def build(self, **options: Any) -> BuildResult:
        """Render what is missing and assemble the film (unless shot targets are given); the
        options are ``build_async``'s. Ctrl-C stops it as a cancelled ``build_async`` stops."""
        import asyncio

        return asyncio.run(self.build_async(**options))

    async def build_async(
        self,
        *,
        jobs: int | None = None,
        max_in_flight: int | None = None,
        targets: list[str] | None = None,
        output: Path | None = None,
        listener: Listener | None = None,
        keep_going: bool = False,
        force: list[str] | None = None,
        locked: bool = False,
        max_cost: float | None = None,
    ) -> BuildResult:
        """``build`` as a coroutine, for a caller that must stop it midway (`grokreel watch`, on
        a save): cancelling its task takes the Ctrl-C path, where queued requests are cancelled,
        running ones stay journaled and finished jobs are remembered, then CancelledError."""
        from .execute import Runner, RunOptions, local_slots

        dest = self.output_path(output) if not targets else None
        job_ids = self.target_jobs(targets)
        lock = self.lock
        forced = self.forced(force)
        self._preflight(job_ids, forced, locked, max_cost)
        in_flight = max_in_flight or configured_in_flight(self.plan.path)
        options = RunOptions(jobs or local_slots(), keep_going, forced, locked, max_cost, lock)
        options.prices, options.max_in_flight = self.prices, in_flight
        backend = make_backend(self.backend, self.store.root, max_in_flight=in_flight)
        runner = Runner(self.plan, self.store, backend, options, listener)
        try:
            outcomes = await runner.run(job_ids)
        finally:
            self._remember_unless_read_only(runner, lock)
        warnings = [str(w) for w in self.plan.warnings] + runner.notes
        warnings += [w for o in outcomes.values() if o.ok for w in o.record.get("qa") or []]
        result = BuildResult(outcomes, warnings=warnings)
        cut = outcomes.get("cut")
        if dest is not None and cut is not None and cut.ok and cut.output:
            result.output = dest
            export_blob(self.store, cut.output, result.output)
            if cut.record.get("srt"):
                atomic_write_text(result.output.with_suffix(".srt"), cut.record["srt"])
        return result

    def output_path(self, output: Path | None = None) -> Path:
        """Where the film goes; refuse to overwrite an input, or to leave the project root when
        the storyboard (not the user on the command line) names the path."""
        dest = Path(output or self.plan.output).resolve()
        root = project_root(self.plan.path)
        if output is None and not dest.is_relative_to(root):
            raise PathError(
                self.plan.path,
                f"output.path {dest} is outside the project folder {root}; "
                "a storyboard may only write inside it (use -o to choose another place)",
            )
        if dest.is_dir():
            raise PathError(dest, "is a folder; give the film a file name such as film.mp4")
        taken = self.inputs()
        for target in (dest, dest.with_suffix(".srt")):
            if target in taken:
                what = taken[target]
                raise PathError(target, f"is {what} of this film; refusing to overwrite it")
        return dest

    def inputs(self) -> dict[Path, str]:
        """Every file a build reads, resolved, with what it is: never a place to write a film."""
        found = {self.plan.path.resolve(): "the storyboard"}
        found[lock_path(self.plan.path).resolve()] = "the lock file"
        config = find_config(self.plan.path)
        if config is not None:
            found[config] = "the grokreel.toml"
        for job in self.plan.jobs():
            for ref in job.refs:
                if ref.startswith("file:"):
                    found.setdefault(Path(ref[5:]).resolve(), "an asset")
        return found

    def check(
        self,
        *,
        targets: list[str] | None = None,
        output: Path | None = None,
        force: list[str] | None = None,
        locked: bool = False,
        max_cost: float | None = None,
    ) -> None:
        """Raise what `build` with these options would refuse before rendering (for dry runs)."""
        if not targets:
            self.output_path(output)
        self._preflight(self.target_jobs(targets), self.forced(force), locked, max_cost)

    def _remember_unless_read_only(self, runner: Runner, lock: LockFile) -> None:
        """Save state and lock; a read-only cache still serves a build, with a warning."""
        try:
            self._remember(runner, lock)
        except OSError as exc:
            if exc.errno not in (errno.EROFS, errno.EACCES, errno.EPERM):
                raise
            runner.notes.append(
                f"could not record this build ({exc.filename or self.store.root}: "
                f"{exc.strerror}); the next build will check the cache again"
            )

    def _preflight(
        self,
        job_ids: list[str] | None,
        forced: frozenset[str],
        locked: bool,
        max_cost: float | None,
    ) -> None:
        """Refuse before any paid call: --locked with work to do, or an estimate over budget."""
        if not locked and max_cost is None:
            return
        wanted = self.plan.needs(job_ids)
        todo = [
            s
            for s in self._statuses(forced)
            if s.job.id in wanted and s.job.endpoint and s.status in ("new", "stale")
        ]
        if locked and todo:
            names = "; ".join(f"{s.job.id} ({', '.join(s.reasons) or s.status})" for s in todo)
            raise PlanError(f"--locked: {len(todo)} shot job(s) would have to be rendered: {names}")
        estimate = sum(s.cost for s in todo) if self.backend != "animatic" else 0.0
        if max_cost is not None and estimate > max_cost + 1e-9:
            raise PlanError(
                f"the estimated cost ${estimate:.2f} is over --max-cost "
                f"${max_cost:.2f}; nothing was submitted (see `grokreel plan`)"
            )

    def _remember(self, runner: Runner, lock: LockFile) -> None:
        state = self._state()
        for job_id, outcome in runner.outcomes.items():
            if not outcome.ok:
                continue
            resolved = resolve_refs(outcome.job.request, runner.content_hash)
            state.remember(
                job_id,
                {
                    "key": outcome.key,
                    "request": resolved,
                    "backend": self.backend,
                    "take": outcome.job.take,
                    "schema": KEY_SCHEMA,
                },
            )
            lock.update(job_id, _lock_entry(outcome))
        state.save()
        if self.plan.draft:  # the lock file pins finals only
            return
        lock.keep_only(set(self.plan.graph.nodes))
        lock.save(self.store.root)


def _lock_entry(outcome: Outcome) -> dict[str, object]:
    record, job = outcome.record, outcome.job
    video = record.get("video") or {}
    return {
        "kind": job.kind,
        "endpoint": job.endpoint_id,
        "key": outcome.key,
        "output_sha256": outcome.output,
        "request_id": record.get("request_id"),
        "source_url": record.get("source_url"),
        "duration": video.get("duration"),
        "size": record.get("size"),
        "cost": record.get("cost"),
        "take": job.take if job.endpoint else None,
    }


def open_project(
    path: Path,
    *,
    cache_dir: Path | None = None,
    backend: str | None = None,
    remote: str | None = None,
    offline: bool = False,
    draft: bool = False,
) -> Project:
    """Compile ``path`` and pick its cache folder, remote cache, backend and prices (flags, then
    environment, then grokreel.toml); ``draft`` for the draft tier (draft.py). A remote that
    cannot be reached is an error here, before anything is paid."""
    plan = compile_file(Path(path), draft=draft)
    root = cache_dir or os.environ.get("GROKREEL_CACHE_DIR") or plan.path.parent / ".grokreel"
    prices = load_prices(plan.path, plan.storyboard.prices)
    store = Store(Path(root), _open_remote(plan.path, remote, offline))
    return Project(plan, store, backend or default_backend(), prices)


def _open_remote(storyboard: Path, url: str | None, offline: bool) -> Remote | None:
    url = remote_url(storyboard, url, offline)
    if url is None:
        return None
    shared = open_remote(url)
    shared.check()
    return shared


def configured_in_flight(storyboard: Path) -> int:
    """``[fal] max_in_flight`` of the nearest grokreel.toml, else the default (MAX_IN_FLIGHT, 32).

    The one place this setting is read; a bad value is a PlanError naming the file."""
    config = load_config(storyboard)
    table = config.table("fal")
    value = table.get("max_in_flight") if isinstance(table, dict) else None
    if value is None:
        return MAX_IN_FLIGHT
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 256:
        raise PlanError(f"{config.path}: [fal] max_in_flight must be a whole number from 1 to 256")
    return value


def export_blob(store: Store, sha: str, dest: Path) -> None:
    """Copy a cached output to ``dest`` unless an identical file is already there."""
    if (
        dest.is_file()
        and dest.stat().st_size == store.blob_path(sha).stat().st_size
        and sha256_file(dest) == sha
    ):
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    store.export(sha, dest)
