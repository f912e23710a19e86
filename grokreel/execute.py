"""Run a plan: the only stage that waits on backends. Jobs start as soon as their inputs exist.

Each job ends in an Outcome value (rendered, cached, failed, skipped), never an escaping exception,
so one failure stops only its dependents. A finished job's output goes into the store and its action
record is written at once: a crash or Ctrl-C loses no finished work.

A paid job whose inputs are all clips rendered on the API in this build (a chain's next link) does
not wait for them to be stored: it is submitted the moment fal names them by URL, under its request
key (keys.py), while they download; its output is filed under its cache key once they are stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .backends.base import MAX_IN_FLIGHT, Backend, MediaInput, RenderRequest
from .cache.lease import Leases
from .cache.lock import LockFile
from .cache.store import Store
from .cost import PriceTable, estimate
from .errors import GrokreelError, PlanError
from .keys import ENGINES, FileHashes, job_key
from .plan import Job, Plan
from .reuse import Reuse
from .slots import ADVICE, InFlight, Slots, off_loop

__all__ = [
    "MAX_IN_FLIGHT",
    "Named",
    "Outcome",
    "RunOptions",
    "Runner",
    "Status",
    "local_slots",
]

Status = Literal["rendered", "cached", "failed", "skipped"]


def local_slots() -> int:
    """Local jobs at once by default (frames, normalizing, the cut, animatic renders): one a CPU."""
    return max(1, os.cpu_count() or 1)


@dataclass
class RunOptions:
    """How a build runs: concurrency, failure policy, what to re-render, and what it may spend.

    ``jobs`` bounds local work (CPU), ``max_in_flight`` paid API jobs (waiting on the network).
    """

    jobs: int = field(default_factory=local_slots)
    keep_going: bool = False
    force: frozenset[str] = frozenset()
    locked: bool = False
    max_cost: float | None = None
    lock: LockFile | None = None
    prices: PriceTable = field(default_factory=PriceTable)
    max_in_flight: int = MAX_IN_FLIGHT


@dataclass
class Outcome:
    """What became of one job."""

    job: Job
    status: Status
    key: str | None = None
    output: str | None = None  # sha256 of the output blob
    record: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status in ("rendered", "cached")


@dataclass(frozen=True)
class Named:
    """A clip the API has made and named by URL, which this build is still downloading."""

    request_id: str
    url: str


Listener = Callable[[Outcome | tuple[Job, str]], None]


class Runner:
    """Executes a plan's jobs on one backend: at most ``max_in_flight`` paid jobs waiting on the
    API and at most ``jobs`` local jobs (CPU work) at once, each kind from its own slots."""

    def __init__(
        self,
        plan: Plan,
        store: Store,
        backend: Backend,
        options: RunOptions | None = None,
        listener: Listener | None = None,
    ):
        self.plan, self.store, self.backend = plan, store, backend
        self.options = options or RunOptions()
        self.local = Slots(self.options.jobs)
        self.advice = asyncio.Semaphore(1)  # clip QA: one at a time, a core left for the rest
        self.remote = InFlight(self.options.max_in_flight)
        self.urgency = plan.urgency(self._seconds)
        self.listener = listener or (lambda event: None)
        self.hashes = FileHashes()
        self.outcomes: dict[str, Outcome] = {}
        self.committed = 0.0  # estimated USD of every paid job started so far
        self.stopped = False  # a job failed and --keep-going is off
        self.notes: list[str] = []  # things the user should hear about (unfetchable takes…)
        self.reuse = Reuse(
            store,
            self.options.lock,
            self.options.force,
            lambda job, said: self.listener((job, said)),
            self.notes,
        )
        self.leases = Leases(store.root)
        if store.remote is not None and hasattr(backend, "share"):
            backend.share(store.remote)  # one paid request per job across machines
        self.checks: list[asyncio.Task[None]] = []  # QA of rendered clips, off the chain's path
        self.warming: asyncio.Future[None] | None = None  # the media stack's import (see _told)
        self.named: dict[str, asyncio.Future[Named | None]] = {}  # job → its clip, once named
        self.linked_early: set[str] = set()  # jobs submitted as soon as their inputs are named

    async def run(self, job_ids: list[str] | None = None) -> dict[str, Outcome]:
        """Run ``job_ids`` (default: all) and everything they need; return every outcome."""
        wanted = self.plan.needs(job_ids)
        with contextlib.suppress(OSError):  # a read-only cache still serves cached builds
            self.store.sweep_scratch()
        tasks: dict[str, asyncio.Task[Outcome]] = {}
        for job in self.plan.jobs():
            if job.id in wanted and self._links_early(job):
                self.linked_early.add(job.id)
                for dep in job.deps:
                    self.named.setdefault(dep, asyncio.get_running_loop().create_future())
        for job in self.plan.jobs():
            if job.id in wanted:
                tasks[job.id] = asyncio.create_task(self._one(job, tasks), name=job.id)
        try:
            await asyncio.gather(*tasks.values())
            await asyncio.gather(*self.checks)
        finally:  # on Ctrl-C, let every job's cleanup (cancel queued requests…) run before closing
            background = [*self.checks, *([self.warming] if self.warming else [])]
            for task in [*tasks.values(), *background]:
                task.cancel()
            await asyncio.gather(*tasks.values(), *background, return_exceptions=True)
            await self.backend.aclose()
        return {job_id: tasks[job_id].result() for job_id in tasks}

    async def _one(self, job: Job, tasks: dict[str, asyncio.Task[Outcome]]) -> Outcome:
        outcome = await self._early(job, tasks) if job.id in self.linked_early else None
        if outcome is None:
            upstream = [await tasks[dep] for dep in job.deps]
            failed = [o.job.id for o in upstream if not o.ok]
            if failed:
                outcome = Outcome(
                    job, "skipped", error=f"needs {', '.join(failed)}, which did not finish"
                )
            else:
                outcome = await self._resolve(job)
        self.outcomes[job.id] = outcome
        named = self.named.get(job.id)
        if named is not None and not named.done():  # not rendered here: its users wait for it
            named.set_result(None)
        self.listener(outcome)
        return outcome

    async def _resolve(self, job: Job) -> Outcome:
        start = time.monotonic()  # from when the job works, not while it waits for a slot
        try:
            key = self.key_of(job)
            paid = self.request_key(job) or key
            record = self.reuse.cached(job, key, paid)
            if record is not None:
                return Outcome(job, "cached", key, record["output"], record)
            async with self._lease(job, paid):
                record = self.reuse.cached(job, key, paid)  # another build may have stored it
                if record is None:
                    record = await self.reuse.pull(job, key)
                if record is None and job.endpoint and job.id not in self.options.force:
                    record = await self.reuse.fetch_locked(job, key)
                if record is not None:
                    return Outcome(job, "cached", key, record["output"], record)
                async with self._slot(job) as done:
                    if self.stopped:
                        return _stopped(job, key)
                    cost = self._commit_spend(job) if job.endpoint else 0.0
                    start = time.monotonic()
                    self.listener((job, "started"))
                    workdir = self.store.workdir()
                    try:
                        media = self._media(job)
                        path, record = await self._produce(
                            job, paid, cost, media, workdir, done, key
                        )
                        record = await self._keep(job, key, paid, path, record)
                    finally:
                        shutil.rmtree(workdir, ignore_errors=True)
            return Outcome(
                job, "rendered", key, record["output"], record, seconds=time.monotonic() - start
            )
        except GrokreelError as exc:
            return self._failed(job, exc, start)

    async def _early(self, job: Job, tasks: dict[str, asyncio.Task[Outcome]]) -> Outcome | None:
        """Submit a chain's next link the moment fal names the clips it passes on by URL, and
        file its output once they are stored. None (the usual way) when an input was not
        rendered here, or another build already paid for this job."""
        named = {dep: n for dep in job.deps if (n := await self.named[dep]) is not None}
        if len(named) < len(job.deps):
            return None
        start = time.monotonic()
        try:
            paid = self.request_key(job, named)
            assert paid is not None  # a paid job with named inputs
            async with self._lease(job, paid):
                if self.reuse.paid_for(paid):
                    return None
                async with self.remote.hold() as done:
                    if self.stopped:
                        return _stopped(job, None)
                    cost = self._commit_spend(job)
                    start = time.monotonic()
                    self.listener((job, "started"))
                    workdir = self.store.workdir()
                    try:
                        media = self._media(job, named)
                        path, record = await self._produce(job, paid, cost, media, workdir, done)
                        return await self._filed_later(job, paid, path, record, tasks, start)
                    finally:
                        shutil.rmtree(workdir, ignore_errors=True)
        except GrokreelError as exc:
            return self._failed(job, exc, start)

    async def _filed_later(
        self,
        job: Job,
        paid: str,
        path: Path,
        record: dict[str, Any],
        tasks: dict[str, asyncio.Task[Outcome]],
        start: float,
    ) -> Outcome:
        """A clip rendered from named inputs, kept once their clips are stored (its cache key
        holds their bytes); if one of them failed, its request stays journaled."""
        failed = [o.job.id for o in [await tasks[dep] for dep in job.deps] if not o.ok]
        if failed:
            return Outcome(
                job,
                "skipped",
                error=f"needs {', '.join(failed)}, which did not finish; its own request "
                "finished and stays journaled: the next build fetches it without paying",
            )
        key = self.key_of(job)
        record = await self._keep(job, key, paid, path, record)
        return Outcome(
            job, "rendered", key, record["output"], record, seconds=time.monotonic() - start
        )

    def _lease(self, job: Job, paid: str) -> contextlib.AbstractAsyncContextManager[None]:
        """One build renders a job at a time: the lease goes by the request key (keys.py)."""
        return self.leases.hold(paid, lambda: self.listener((job, "rendered by another build")))

    def _failed(self, job: Job, exc: GrokreelError, start: float) -> Outcome:
        self.stopped = not self.options.keep_going
        return Outcome(job, "failed", error=str(exc), seconds=time.monotonic() - start)

    def _links_early(self, job: Job) -> bool:
        """A paid job whose every input is a paid job's clip (passed on by URL, see _early)."""
        return (
            self._remote(job)
            and bool(job.deps)
            and job.id not in self.options.force
            and all(self._remote(self.plan.job(dep)) for dep in job.deps)
        )

    @contextlib.asynccontextmanager
    async def _slot(self, job: Job) -> AsyncIterator[Callable[[], None]]:
        """A paid job on a remote backend waits on the network (its slot is given back early by
        the ``done`` yielded, see InFlight); everything else (frames, the cut, animatic drafts)
        is CPU work on this machine, the most urgent first."""
        if self._remote(job):
            async with self.remote.hold() as done:
                yield done
        else:
            async with self.local.take(self.urgency[job.id]):
                yield _nothing

    def _remote(self, job: Job) -> bool:
        return job.endpoint is not None and self.backend.name != "animatic"

    def _seconds(self, job: Job) -> float:
        """Rough seconds a job takes, for urgency only: a paid render waits about a minute on
        the API, local work about a second."""
        return 60.0 if self._remote(job) else 1.0

    def _commit_spend(self, job: Job) -> float:
        """Refuse a paid job in --locked mode or past --max-cost; else count its estimate."""
        if self.options.locked:
            raise PlanError(f"`{job.id}` would have to be rendered, and the build is --locked")
        cost = (
            estimate(self.plan, job, self.options.prices)
            if self.backend.name != "animatic"
            else 0.0
        )
        limit = self.options.max_cost
        if limit is not None and self.committed + cost > limit + 1e-9:
            raise PlanError(
                f"`{job.id}` (about ${cost:.2f}) would take the spend to "
                f"${self.committed + cost:.2f}, past --max-cost ${limit:.2f}; "
                "not submitted"
            )
        self.committed += cost
        return cost

    # -- keys and inputs -------------------------------------------------------------------------
    def key_of(self, job: Job) -> str:
        engine = ENGINES.get(job.kind, "")
        return job_key(job, self.backend.name, self.content_hash, engine)

    def request_key(self, job: Job, named: dict[str, Named] | None = None) -> str | None:
        """The paid request's key (keys.py): each upstream clip goes by the fal request that
        made it (``named`` before it is stored), so it is known before the clip is downloaded.
        None when no input is a clip fal made: the cache key is the request key then."""
        if not self._remote(job):
            return None
        if named is None:
            named = {
                dep: Named(made_by, "")
                for dep in job.deps
                if (made_by := self.outcomes[dep].record.get("request_id"))
            }
        if not named:
            return None

        def resolve(ref: str) -> str:
            made = named.get(ref[4:]) if ref.startswith("job:") else None
            return f"fal:{made.request_id}" if made else self.content_hash(ref)

        return job_key(job, self.backend.name, resolve, ENGINES.get(job.kind, ""))

    def content_hash(self, ref: str) -> str:
        if ref.startswith("file:"):
            return f"sha256:{self.hashes(Path(ref[5:]))}"
        output = self.outcomes[ref[4:]].output
        return f"sha256:{output}"

    def _media(self, job: Job, named: dict[str, Named] | None = None) -> dict[str, MediaInput]:
        media = {}
        for ref in job.refs:
            if ref.startswith("file:"):
                path = Path(ref[5:])
                media[ref] = MediaInput(ref, path, self.hashes(path))
            elif named is not None and ref.startswith("job:"):
                media[ref] = MediaInput(ref, None, "", named[ref[4:]].url)
            elif ref.startswith("job:"):
                upstream = self.outcomes[ref[4:]]
                assert upstream.output
                path = self.store.open_verified(upstream.output)
                media[ref] = MediaInput(
                    ref, path, upstream.output, upstream.record.get("source_url")
                )
        return media

    # -- running ---------------------------------------------------------------------------------
    async def _produce(
        self,
        job: Job,
        paid: str,
        cost: float,
        media: dict[str, MediaInput],
        workdir: Path,
        done: Callable[[], None],
        key: str = "",
    ) -> tuple[Path, dict[str, Any]]:
        """The job's output file in ``workdir`` and its record (without the cache key yet);
        ``done`` gives a paid job's API slot back once fal has named its clip."""
        record: dict[str, Any] = {
            "job": job.id,
            "kind": job.kind,
            "request": job.request,
            "created": time.time(),
        }
        if job.endpoint:
            record["cost"] = cost
        if job.kind == "frame":
            path = await asyncio.to_thread(_grab, media, job, workdir)
        elif job.kind in ("normalize", "cut"):
            path, extra = await asyncio.to_thread(_edit, media, job, workdir)
            record |= extra
        else:
            path, extra = await self._render(job, paid, media, workdir, done, key)
            record |= extra
        return path, record

    async def _keep(
        self, job: Job, key: str, paid: str, path: Path, record: dict[str, Any]
    ) -> dict[str, Any]:
        """Store the output under its cache key, share it, then end its paid request."""
        record = {"key": key} | record
        await off_loop(self._store_output, key, path, record)
        await self.reuse.push(job, key, record)  # before release: a claim outlives no record
        if job.endpoint:
            await self.backend.release(paid, record["output"])
            self.checks.append(asyncio.create_task(self._check(job, key, record)))
        return record

    def _store_output(self, key: str, path: Path, record: dict[str, Any]) -> None:
        """The output into the store, then its record (hashing and fsync: kept off the loop)."""
        sha, size = self.store.put(path)
        record |= {"output": sha, "size": size}
        record["takes"] = _earlier_takes(self.store.get_action(key), sha)
        self.store.put_action(key, record)

    async def _render(
        self,
        job: Job,
        paid: str,
        media: dict[str, MediaInput],
        workdir: Path,
        done: Callable[[], None],
        key: str,
    ) -> tuple[Path, dict[str, Any]]:
        assert job.endpoint and job.endpoint_id and job.shot
        variation = (
            len(_earlier_takes(self.store.get_action(key), ""))
            if job.id in self.options.force
            else 0
        )
        request = RenderRequest(
            job.id,
            job.shot,
            job.endpoint,
            job.endpoint_id,
            job.request,
            media,
            paid,
            job.take,
            variation,
            Path(job.font[5:]) if job.font else None,
            self._namer(job, done),
            key,
        )
        result = await self.backend.render(request, workdir, self._told(job))
        extra = {
            "backend": self.backend.name,
            "endpoint": job.endpoint_id,
            "video": result.video,
            "request_id": result.request_id,
            "source_url": result.source_url,
        } | result.extra
        return result.path, extra

    def _namer(self, job: Job, done: Callable[[], None]) -> Callable[[str, str], None]:
        """What fal naming ``job``'s clip sets off: its API slot is given back (the download is
        not API time), and the jobs that pass the clip on by URL go (see _early)."""
        future = self.named.get(job.id)

        def named(request_id: str, url: str) -> None:
            done()
            if future is not None and not future.done():
                future.set_result(Named(request_id, url))

        return named

    def _told(self, job: Job) -> Callable[[str], None]:
        """The backend's progress for ``job``, passed on. Once a paid request is queued the build
        only waits, so the media stack its clip will need on arrival is imported then: off the
        path from fal's answer to the next link's submit (it was a tenth of a second there)."""

        def told(state: str) -> None:
            if self.warming is None and state.startswith(("queued", "running")):
                self.warming = asyncio.ensure_future(off_loop(_import_media_stack))
            self.listener((job, state))

        return told

    async def _check(self, job: Job, key: str, record: dict[str, Any]) -> None:
        """QA of a stored clip, beside the jobs that use it (its warnings are only advice, so a
        downstream submit need not wait for them); kept in the clip's record once known."""
        async with self.advice, self.local.take(ADVICE):
            await off_loop(self._checked, job, key, record)

    def _checked(self, job: Job, key: str, record: dict[str, Any]) -> None:
        record["qa"] = _qa(self.store.blob_path(record["output"]), job)
        with contextlib.suppress(OSError):  # a read-only cache: the warnings are still shown
            self.store.put_action(key, record)


def _nothing() -> None:
    """A local slot is held to the job's end: nothing to give back early."""


def _stopped(job: Job, key: str | None) -> Outcome:
    return Outcome(
        job,
        "skipped",
        key,
        error="the build stopped after a failure (use -k/--keep-going to finish independent jobs)",
    )


def _import_media_stack() -> None:
    """PyAV (a downloaded clip is probed), numpy (QA) and the cut (normalizing)."""
    import av  # noqa: F401

    from .cut import jobs, qa  # noqa: F401


def _earlier_takes(previous: dict[str, Any] | None, new: str) -> list[str]:
    """Outputs this key produced before (forced re-renders): kept so a take can be pinned back."""
    if previous is None:
        return []
    takes = [*previous.get("takes", []), previous["output"]]
    return [t for t in dict.fromkeys(takes) if t != new]


def _grab(media: dict[str, MediaInput], job: Job, workdir: Path) -> Path:
    from .media.frames import grab_frame

    dest = workdir / f"{job.id}.png"
    grab_frame(media[job.request["source"]].path, dest, job.request["at"])
    return dest


def _edit(media: dict[str, MediaInput], job: Job, workdir: Path) -> tuple[Path, dict[str, Any]]:
    """A clip normalized into the film's format, or the film assembled (see grokreel/cut)."""
    from .cut.jobs import run_cut, run_normalize

    if job.kind == "normalize":
        source = job.request["source"]
        return run_normalize(job.request, media[source].path if source else None, workdir)
    return run_cut(job.request, {ref: m.path for ref, m in media.items()}, workdir)


def _qa(path: Path, job: Job) -> list[str]:
    """Warnings about a freshly rendered clip; a clip QA cannot read is itself worth a warning."""
    from .cut.qa import clip_qa

    try:
        return clip_qa(path, job.duration, job.shot or job.id)
    except GrokreelError as exc:
        return [f"shot `{job.shot or job.id}`: could not be checked: {exc}"]
