"""Run a plan: the only stage that waits on backends. Jobs start as soon as their inputs exist.

Each job ends in an Outcome value (rendered, cached, failed, skipped), never an escaping exception,
so one failure stops only its dependents. A finished job's output goes into the store and its action
record is written at once: a crash or Ctrl-C loses no finished work.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .backends.base import Backend, MediaInput, RenderRequest
from .errors import GrokreelError
from .keys import FileHashes, job_key
from .plan import Job, Plan
from .store import Store

__all__ = ["CUT_ENGINE", "Outcome", "Runner", "Status"]

Status = Literal["rendered", "cached", "failed", "skipped"]
CUT_ENGINE = "moviepy-1"
FRAME_ENGINE = "pyav-frame-1"


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


Listener = Callable[[Outcome | tuple[Job, str]], None]


class Runner:
    """Executes a plan's jobs on one backend with at most ``jobs`` running at once."""

    def __init__(self, plan: Plan, store: Store, backend: Backend, *, jobs: int = 2,
                 listener: Listener | None = None):
        self.plan, self.store, self.backend = plan, store, backend
        self.limit = asyncio.Semaphore(max(1, jobs))
        self.listener = listener or (lambda event: None)
        self.hashes = FileHashes()
        self.outcomes: dict[str, Outcome] = {}

    async def run(self, job_ids: list[str] | None = None) -> dict[str, Outcome]:
        """Run ``job_ids`` (default: all) and everything they need; return every outcome."""
        wanted = self._closure(job_ids)
        tasks: dict[str, asyncio.Task[Outcome]] = {}
        for job in self.plan.jobs():
            if job.id in wanted:
                tasks[job.id] = asyncio.create_task(self._one(job, tasks), name=job.id)
        try:
            await asyncio.gather(*tasks.values())
        finally:  # on Ctrl-C, let every job's cleanup (cancel queued requests…) run before closing
            for task in tasks.values():
                task.cancel()
            await asyncio.gather(*tasks.values(), return_exceptions=True)
            await self.backend.aclose()
        return {job_id: tasks[job_id].result() for job_id in tasks}

    def _closure(self, job_ids: list[str] | None) -> set[str]:
        import networkx as nx

        if job_ids is None:
            return set(self.plan.graph.nodes)
        wanted = set(job_ids)
        for job_id in job_ids:
            wanted |= nx.ancestors(self.plan.graph, job_id)
        return wanted

    async def _one(self, job: Job, tasks: dict[str, asyncio.Task[Outcome]]) -> Outcome:
        upstream = [await tasks[dep] for dep in job.deps]
        failed = [o.job.id for o in upstream if not o.ok]
        if failed:
            outcome = Outcome(job, "skipped", error=f"needs {', '.join(failed)}, which did not finish")
        else:
            outcome = await self._resolve(job)
        self.outcomes[job.id] = outcome
        self.listener(outcome)
        return outcome

    async def _resolve(self, job: Job) -> Outcome:
        start = time.monotonic()
        try:
            key = self.key_of(job)
            record = self.store.get_action(key)
            if record is not None:
                return Outcome(job, "cached", key, record["output"], record)
            async with self.limit:
                self.listener((job, "started"))
                record = await self._execute(job, key)
            return Outcome(job, "rendered", key, record["output"], record,
                           seconds=time.monotonic() - start)
        except GrokreelError as exc:
            return Outcome(job, "failed", error=str(exc), seconds=time.monotonic() - start)

    # -- keys and inputs -------------------------------------------------------------------------
    def key_of(self, job: Job) -> str:
        engine = {"cut": CUT_ENGINE, "frame": FRAME_ENGINE}.get(job.kind, "")
        return job_key(job, self.backend.name, self.content_hash, engine)

    def content_hash(self, ref: str) -> str:
        if ref.startswith("file:"):
            return f"sha256:{self.hashes(Path(ref[5:]))}"
        output = self.outcomes[ref[4:]].output
        return f"sha256:{output}"

    def _media(self, job: Job) -> dict[str, MediaInput]:
        media = {}
        for ref in job.refs:
            if ref.startswith("file:"):
                path = Path(ref[5:])
                media[ref] = MediaInput(ref, path, self.hashes(path))
            elif ref.startswith("job:"):
                upstream = self.outcomes[ref[4:]]
                assert upstream.output
                path = self.store.open_verified(upstream.output)
                media[ref] = MediaInput(ref, path, upstream.output,
                                        upstream.record.get("source_url"))
        return media

    # -- running ---------------------------------------------------------------------------------
    async def _execute(self, job: Job, key: str) -> dict[str, Any]:
        workdir = self.store.workdir()
        try:
            media = self._media(job)
            record: dict[str, Any] = {"key": key, "job": job.id, "kind": job.kind,
                                      "request": job.request, "created": time.time()}
            if job.kind == "frame":
                path = await asyncio.to_thread(_grab, media, job, workdir)
            elif job.kind == "cut":
                path = await asyncio.to_thread(_cut, media, job, workdir)
            else:
                path, extra = await self._render(job, key, media, workdir)
                record |= extra
            sha, size = self.store.put(path)
            record |= {"output": sha, "size": size}
            self.store.put_action(key, record)
            if job.endpoint:
                await self.backend.release(key)
            return record
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    async def _render(self, job: Job, key: str, media: dict[str, MediaInput],
                      workdir: Path) -> tuple[Path, dict[str, Any]]:
        assert job.endpoint and job.endpoint_id and job.shot
        request = RenderRequest(job.id, job.shot, job.endpoint, job.endpoint_id, job.request, media,
                                key, job.take)
        result = await self.backend.render(request, workdir,
                                           lambda state: self.listener((job, state)))
        extra = {"backend": self.backend.name, "endpoint": job.endpoint_id, "video": result.video,
                 "request_id": result.request_id, "source_url": result.source_url} | result.extra
        return result.path, extra


def _grab(media: dict[str, MediaInput], job: Job, workdir: Path) -> Path:
    from .media.frames import grab_frame

    dest = workdir / f"{job.id}.png"
    grab_frame(media[job.request["source"]].path, dest, job.request["at"])
    return dest


def _cut(media: dict[str, MediaInput], job: Job, workdir: Path) -> Path:
    from .cut import CutClip, FilmFormat, Transition, assemble

    clips = []
    for clip in job.request["clips"]:
        t = clip["transition"] or {}
        transition = Transition(t.get("type", "cut"), float(t.get("duration", 0.0)))
        clips.append(CutClip(media[clip["ref"]].path, transition))
    dest = workdir / "film.mp4"
    assemble(clips, dest, FilmFormat(**job.request["format"]))
    return dest
