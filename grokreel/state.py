"""What the last build of a storyboard produced, and why a node is cached, new or stale.

The action map answers "is this exact job cached?"; this module remembers, per storyboard, which key
and resolved request each node had last time, so a plan can say *why* a node must run again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .keys import KEY_SCHEMA, FileHashes, job_key, resolve_refs
from .plan import Job, Plan
from .store import Store, atomic_write_text

__all__ = ["BuildState", "NodeStatus", "plan_status"]

PlanStatus = Literal["cached", "new", "stale"]


@dataclass
class NodeStatus:
    """A node's status before a build, with the reasons as data."""

    job: Job
    status: PlanStatus
    key: str | None
    reasons: list[str] = field(default_factory=list)
    output: str | None = None


class BuildState:
    """Per-storyboard memory of the last successful key and request of every node."""

    def __init__(self, store: Store, storyboard: Path):
        digest = hashlib.sha256(str(storyboard.resolve()).encode()).hexdigest()[:16]
        self.path = store.root / "state" / f"{storyboard.stem}-{digest}.json"
        try:
            self.nodes: dict[str, dict[str, Any]] = json.loads(self.path.read_text())["nodes"]
        except (FileNotFoundError, json.JSONDecodeError, KeyError):
            self.nodes = {}

    def remember(self, job_id: str, entry: dict[str, Any]) -> None:
        self.nodes[job_id] = entry

    def save(self) -> None:
        atomic_write_text(self.path, json.dumps({"schema": KEY_SCHEMA, "nodes": self.nodes},
                                                indent=1, sort_keys=True))


def plan_status(plan: Plan, store: Store, backend: str, state: BuildState,
                engines: dict[str, str]) -> list[NodeStatus]:
    """Status of every node, walking the DAG with the cache's outputs (no rendering)."""
    hashes = FileHashes()
    outputs: dict[str, str | None] = {}
    statuses: list[NodeStatus] = []
    for job in plan.jobs():
        pending = [d for d in job.deps if outputs.get(d) is None]

        def resolve(ref: str) -> str:
            if ref.startswith("file:"):
                return f"sha256:{hashes(Path(ref[5:]))}"
            return f"sha256:{outputs[ref[4:]]}"

        previous = state.nodes.get(job.id)
        if pending:
            status = NodeStatus(job, "stale" if previous else "new", None,
                                [f"upstream `{d}` will be rendered" for d in pending])
        else:
            key = job_key(job, backend, resolve, engines.get(job.kind, ""))
            record = store.get_action(key)
            if record:
                status = NodeStatus(job, "cached", key, [], record["output"])
            else:
                resolved = resolve_refs(job.request, resolve)
                status = NodeStatus(job, "stale" if previous else "new", key,
                                    _reasons(job, previous, resolved, backend, key))
        outputs[job.id] = status.output
        statuses.append(status)
    return statuses


def _reasons(job: Job, previous: dict[str, Any] | None, resolved: dict[str, Any], backend: str,
             key: str) -> list[str]:
    if previous is None:
        return ["never built"]
    if previous.get("key") == key:
        return ["output missing from the cache"]
    reasons = []
    if previous.get("schema") != KEY_SCHEMA:
        reasons.append("key schema changed")
    if job.endpoint and previous.get("backend") != backend:
        reasons.append(f"backend {previous.get('backend')} → {backend}")
    if previous.get("take", 1) != job.take:
        reasons.append(f"take {previous.get('take', 1)} → {job.take}")
    reasons += _diff(previous.get("request", {}), resolved, job)
    return reasons or ["inputs changed"]


def _diff(old: dict[str, Any], new: dict[str, Any], job: Job) -> list[str]:
    out = []
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name), new.get(name)
        if before == after:
            continue
        if name == "prompt":
            out.append("prompt changed")
        elif isinstance(after, str) and after.startswith("sha256:") or name in ("clips", "source"):
            out.append(_media_reason(name, job))
        elif isinstance(before, int | float | str) and isinstance(after, int | float | str):
            out.append(f"{name} {before} → {after}")
        else:
            out.append(f"{name} changed")
    return out


def _media_reason(name: str, job: Job) -> str:
    refs = job.refs
    if name == "clips":
        return "the cut's clips or transitions changed"
    upstream = [r[4:] for r in refs if r.startswith("job:")]
    files = [Path(r[5:]).name for r in refs if r.startswith("file:")]
    if upstream:
        return f"upstream `{upstream[0]}` has a new output"
    if files:
        return f"{name.removesuffix('_url').removesuffix('_urls')} `{', '.join(files)}` bytes changed"
    return f"{name} changed"
