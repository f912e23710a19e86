"""What the review page shows, gathered from the plan, the cache and (after a build) its outcomes.

Pure data: no HTML here. Every shot becomes a ``ShotCard`` with its jobs' statuses and reasons
(``state.plan_status``), costs, QA notes, upstream shots, its clip and every take of it the cache
holds; the film becomes a ``Film`` with its cut as a strip of clips.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx

from ..cost import estimate, output_resolution
from ..keys import ENGINES, FileHashes, job_key
from ..plan import Job

if TYPE_CHECKING:
    from ..build import Project
    from ..execute import Outcome
    from ..state import NodeStatus

__all__ = ["Clip", "Film", "JobRow", "ShotCard", "Take", "collect"]

TAKES_SCANNED = 30  # takes 1..N (and the shot's own, whatever its number) are looked for


@dataclass
class Clip:
    """A video in the cache, with its measured facts."""

    sha: str
    duration: float | None = None
    width: int | None = None
    height: int | None = None


@dataclass
class Take:
    """One take of a shot held in the cache, and how to select it."""

    label: str
    clip: Clip
    line: str  # what to write in the storyboard to get it back
    current: bool = False


@dataclass
class JobRow:
    """One job of a shot: what is sent, its status and why, its cost."""

    id: str
    kind: str
    endpoint: str | None
    status: str
    reasons: list[str]
    built_now: bool
    prompt: str | None
    resolution: str | None
    duration: float | None
    estimated: float
    spent: float | None
    qa: list[str] = field(default_factory=list)


@dataclass
class ShotCard:
    """One shot as an author reviews it."""

    name: str
    title: str | None
    note: str | None
    kind: str
    prompt: str
    take: int
    jobs: list[JobRow]
    clip: Clip | None
    upstream: list[str]
    takes: list[Take]

    @property
    def estimated(self) -> float:
        return round(sum(j.estimated for j in self.jobs), 4)

    @property
    def spent(self) -> float:
        return round(sum(j.spent or 0.0 for j in self.jobs), 4)

    @property
    def status(self) -> str:
        """The worst of its jobs: stale, new, fetch, remote, rendered (by this build), cached."""
        order = ["stale", "new", "fetch", "remote", "rendered", "cached"]
        return min((j.status for j in self.jobs), key=order.index, default="cached")


@dataclass
class Film:
    """The whole board: its cut as a strip, its shots, its totals."""

    title: str
    storyboard: str
    backend: str
    strip: list[tuple[str, Clip | None]]
    shots: list[ShotCard]
    cut: Clip | None
    draft: bool = False

    @property
    def estimated(self) -> float:
        return round(sum(s.estimated for s in self.shots), 4)

    @property
    def spent(self) -> float:
        return round(sum(s.spent for s in self.shots), 4)


def collect(
    project: Project,
    before: list[NodeStatus] | None = None,
    outcomes: dict[str, Outcome] | None = None,
) -> Film:
    """The page's data; ``before``/``outcomes`` (from a build) say what it rendered and why."""
    now = {s.job.id: s for s in project.status()}
    why = {s.job.id: s for s in before} if before else now
    built = {i for i, o in (outcomes or {}).items() if o.status == "rendered"}
    records = _Records(project, now)
    cards = [
        _card(project, name, now, why, built, records)
        for name in project.plan.storyboard.shots
        if name in project.plan.final
    ]
    strip = [
        (job.shot or "title card", records.clip(job.id))
        for job in project.plan.jobs()
        if job.kind == "normalize"
    ]
    board = project.plan.storyboard
    return Film(
        title=board.title or project.plan.path.stem,
        storyboard=project.plan.path.name,
        backend=project.backend,
        strip=strip,
        shots=cards,
        cut=records.clip("cut") if "cut" in now else None,
        draft=project.plan.draft,
    )


class _Records:
    """Cache records of the current outputs, looked up once each."""

    def __init__(self, project: Project, now: dict[str, NodeStatus]):
        self.store = project.store
        self.now = now

    def record(self, job_id: str) -> dict[str, Any] | None:
        status = self.now.get(job_id)
        if status is None or status.key is None or status.status != "cached":
            return None
        return self.store.get_action(status.key)

    def clip(self, job_id: str) -> Clip | None:
        status = self.now.get(job_id)
        record = self.record(job_id)
        if status is None or not status.output or status.status != "cached":
            return None
        return clip_of(status.output, record)


def clip_of(sha: str, record: dict[str, Any] | None) -> Clip:
    video = (record or {}).get("video") or {}
    return Clip(sha, video.get("duration"), video.get("width"), video.get("height"))


def _card(
    project: Project,
    name: str,
    now: dict[str, NodeStatus],
    why: dict[str, NodeStatus],
    built: set[str],
    records: _Records,
) -> ShotCard:
    plan = project.plan
    shot = plan.storyboard.shots[name]
    jobs = [j for j in plan.jobs() if j.shot == name and j.kind != "normalize"]
    rows = [_row(project, job, why[job.id], job.id in built, records) for job in jobs]
    return ShotCard(
        name=name,
        title=shot.title,
        note=shot.note,
        kind=shot.resolved_kind,
        prompt=shot.prompt,
        take=shot.take,
        jobs=rows,
        clip=records.clip(plan.final[name]),
        upstream=_upstream(project, jobs, name),
        takes=_takes(project, [j for j in jobs if j.endpoint], now, shot.take),
    )


def _row(
    project: Project, job: Job, status: NodeStatus, built_now: bool, records: _Records
) -> JobRow:
    record = records.record(job.id) or {}
    spent = record.get("actual_cost", record.get("cost")) if job.endpoint else None
    return JobRow(
        id=job.id,
        kind=job.kind,
        endpoint=job.endpoint,
        status="rendered" if built_now else status.status,
        reasons=list(status.reasons),
        built_now=built_now,
        prompt=job.request.get("prompt"),
        resolution=output_resolution(project.plan, job) if job.endpoint else None,
        duration=job.duration,
        estimated=estimate(project.plan, job, project.prices),
        spent=spent,
        qa=list(record.get("qa") or []),
    )


def _upstream(project: Project, jobs: list[Job], name: str) -> list[str]:
    """Shots this one is made from (an image, a frame, a video), in film order."""
    graph = project.plan.graph
    above = set().union(*(nx.ancestors(graph, j.id) for j in jobs)) if jobs else set()
    shots = {project.plan.job(i).shot for i in above} - {name, None}
    return [s for s in project.plan.storyboard.shots if s in shots]


def _takes(
    project: Project, jobs: list[Job], now: dict[str, NodeStatus], current: int
) -> list[Take]:
    """Every take of the shot the cache holds for its current prompt and inputs."""
    if not jobs:
        return []
    found = []
    for number in sorted({*range(1, TAKES_SCANNED + 1), current}):
        sha, record = _take_output(project, jobs, now, number)
        if sha is not None:
            line = "take: 1 (or no take line)" if number == 1 else f"take: {number}"
            found.append(Take(f"take {number}", clip_of(sha, record), line, number == current))
    return found


def _take_output(
    project: Project, jobs: list[Job], now: dict[str, NodeStatus], number: int
) -> tuple[str | None, dict[str, Any] | None]:
    """The shot's output had it been rendered as take ``number`` (None when not in the cache)."""
    outputs = {i: s.output for i, s in now.items()}
    resolve = _resolver(outputs, FileHashes())
    record = None
    for job in jobs:
        try:
            key = job_key(
                replace(job, take=number), project.backend, resolve, ENGINES.get(job.kind, "")
            )
        except LookupError:
            return None, None
        record = project.store.get_action(key)
        if record is None:
            return None, None
        outputs[job.id] = record["output"]
    return outputs[jobs[-1].id], record


def _resolver(outputs: dict[str, str | None], hashes: FileHashes) -> Callable[[str], str]:
    def resolve(ref: str) -> str:
        if ref.startswith("file:"):
            return f"sha256:{hashes(Path(ref[5:]))}"
        sha = outputs.get(ref[4:])
        if sha is None:
            raise LookupError(ref)
        return f"sha256:{sha}"

    return resolve
