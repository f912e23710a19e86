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

from .cache.journal import Journal
from .cache.lease import update_json
from .cache.lock import LockFile
from .cache.store import Store
from .cache.sync import peek
from .cache.tier import blob_name
from .cost import PriceTable, estimate
from .keys import KEY_SCHEMA, FileHashes, job_key, resolve_refs
from .plan import Job, Plan

__all__ = ["BuildState", "NodeStatus", "find_existing", "is_fetchable", "plan_status"]

# fetch: not in the cache, but the lock file's take will be downloaded from its URL (free)
# remote: not in the cache, but the remote cache holds it and it will be pulled (free)
PlanStatus = Literal["cached", "remote", "fetch", "new", "stale"]


@dataclass
class NodeStatus:
    """A node's status before a build, with the reasons as data."""

    job: Job
    status: PlanStatus
    key: str | None
    reasons: list[str] = field(default_factory=list)
    output: str | None = None
    cost: float = 0.0  # estimated USD the API charges to (re)render it; 0 when cached


class BuildState:
    """Per-storyboard memory of the last successful key and request of every node."""

    def __init__(self, store: Store, storyboard: Path, tier: str = ""):
        digest = hashlib.sha256(str(storyboard.resolve()).encode()).hexdigest()[:16]
        self.store_root = store.root
        suffix = f"-{tier}" if tier else ""  # a draft remembers its own last build
        self.path = store.root / "state" / f"{storyboard.stem}-{digest}{suffix}.json"
        try:
            self.nodes: dict[str, dict[str, Any]] = json.loads(self.path.read_text())["nodes"]
        except (OSError, ValueError, KeyError, TypeError):  # missing or damaged: start afresh
            self.nodes = {}

        self.updates: dict[str, dict[str, Any]] = {}

    def remember(self, job_id: str, entry: dict[str, Any]) -> None:
        self.nodes[job_id] = self.updates[job_id] = entry

    def save(self) -> None:
        """Merge this build's nodes into the file, under its mutex (another build may have
        saved its own nodes meanwhile)."""

        def merge(current: dict[str, Any]) -> dict[str, Any]:
            nodes = current.get("nodes")
            kept = nodes if isinstance(nodes, dict) else {}  # a damaged file starts afresh
            return {"schema": KEY_SCHEMA, "nodes": kept | self.updates}

        self.nodes = update_json(self.store_root, self.path, merge)["nodes"]


def find_existing(
    store: Store, lock: LockFile | None, job_id: str, key: str, request_key: str = ""
) -> dict[str, Any] | None:
    """The output to reuse for ``key``: the locked take if it is in the store, else the cache's.

    ``request_key`` (keys.py) names the paid request's receipt when it differs from ``key``."""
    entry = lock.entry(job_id, key) if lock else None
    record = store.get_action(key)
    if entry and store.has(entry["output_sha256"], entry.get("size")):
        if record and record["output"] == entry["output_sha256"]:
            return record
        return {
            "key": key,
            "job": job_id,
            "output": entry["output_sha256"],
            "size": entry.get("size"),
            "video": {"duration": entry.get("duration"), "url": entry.get("source_url")},
            "request_id": entry.get("request_id"),
            "source_url": entry.get("source_url"),
            "cost": entry.get("cost"),
            "pinned_by_lock": True,
        }
    return record or _from_receipt(store, job_id, key, request_key or key)


def _from_receipt(store: Store, job_id: str, key: str, request_key: str) -> dict[str, Any] | None:
    """A paid clip whose action record was lost, found again through its journal receipt."""
    journal = Journal(store.root)
    receipt = journal.receipt(request_key) or journal.receipt(key)
    if receipt is None or not store.has(receipt["output"]):
        return None
    return {
        "key": key,
        "job": job_id,
        "output": receipt["output"],
        "size": store.blob_path(receipt["output"]).stat().st_size,
        "endpoint": receipt.get("endpoint"),
        "request_id": receipt.get("request_id"),
        "recovered_from_journal": True,
    }


def plan_status(
    plan: Plan,
    store: Store,
    backend: str,
    state: BuildState,
    engines: dict[str, str],
    lock: LockFile | None = None,
    prices: PriceTable | None = None,
    force: frozenset[str] = frozenset(),
) -> list[NodeStatus]:
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
            status = NodeStatus(
                job,
                "stale" if previous else "new",
                None,
                [f"upstream `{d}` will be rendered" for d in pending],
            )
        else:
            key = job_key(job, backend, resolve, engines.get(job.kind, ""))
            status = _status_of(job, key, store, lock, previous, resolve, backend)
        if job.id in force:
            status = NodeStatus(job, "stale", status.key, ["forced: a new take"])
        if status.status in ("new", "stale") and job.endpoint:  # the API's price, any backend
            status.cost = estimate(plan, job, prices or PriceTable())
        outputs[job.id] = status.output
        statuses.append(status)
    return statuses


def _status_of(
    job: Job,
    key: str,
    store: Store,
    lock: LockFile | None,
    previous: dict[str, Any] | None,
    resolve: Any,
    backend: str,
) -> NodeStatus:
    record = find_existing(store, lock, job.id, key)
    if record:
        return NodeStatus(job, "cached", key, [], record["output"])
    entry = lock.entry(job.id, key) if lock else None
    shared = _in_remote(store, key, entry)
    if shared is not None:
        return NodeStatus(job, "remote", key, ["the remote cache holds it"], shared)
    if entry and job.endpoint and is_fetchable(entry):
        reason = "the locked take will be fetched from its URL"
        return NodeStatus(job, "fetch", key, [reason], entry["output_sha256"])
    resolved = resolve_refs(job.request, resolve)
    status = NodeStatus(
        job, "stale" if previous else "new", key, _reasons(job, previous, resolved, backend, key)
    )
    if entry and not job.endpoint:
        # A local job (frame, normalize, cut) is deterministic: made from the locked inputs it
        # gives the locked output, so what depends on it can be matched to its lock entry too.
        status.output = entry["output_sha256"]
        status.reasons = ["made locally from locked inputs"]
    return status


def _in_remote(store: Store, key: str, entry: dict[str, Any] | None) -> str | None:
    """The output the remote cache holds for ``key`` (its record, or the locked take's blob)."""
    if store.remote is None:
        return None
    record = peek(store, key)
    if record is not None:
        return str(record["output"])
    sha = entry.get("output_sha256") if entry else None
    return sha if isinstance(sha, str) and store.remote.head(blob_name(sha)) else None


def is_fetchable(entry: dict[str, Any]) -> bool:
    """Whether a lock entry names a URL its take can be downloaded from."""
    return str(entry.get("source_url", "")).startswith(("http://", "https://"))


def _reasons(
    job: Job, previous: dict[str, Any] | None, resolved: dict[str, Any], backend: str, key: str
) -> list[str]:
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


_MEDIA_LABELS = {
    "image_url": "image",
    "reference_image_urls": "reference image",
    "video_url": "video",
    "source": "source",
}


def _diff(old: dict[str, Any], new: dict[str, Any], job: Job) -> list[str]:
    out = []
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name), new.get(name)
        if before == after:
            continue
        if name == "prompt":
            out.append("prompt changed")
        elif name == "clips":
            out.append("the cut's clips or transitions changed")
        elif name in _MEDIA_LABELS:
            out += _media_reasons(name, before, after, job.request.get(name))
        elif isinstance(before, int | float | str) and isinstance(after, int | float | str):
            out.append(f"{name} {before} → {after}")
        else:
            out.append(f"{name} changed")
    return out


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _media_reasons(name: str, before: Any, after: Any, refs: Any) -> list[str]:
    """Name the changed input: a file whose bytes changed, or an upstream with a new take."""
    label = _MEDIA_LABELS[name]
    before, after, refs = _as_list(before), _as_list(after), _as_list(refs)
    if len(before) != len(after):
        return [f"{label}s changed"]
    reasons = []
    for old, new, ref in zip(before, after, refs, strict=False):
        if old == new:
            continue
        if isinstance(ref, str) and ref.startswith("job:"):
            reasons.append(f"upstream `{ref[4:]}` has a new take")
        elif isinstance(ref, str) and ref.startswith("file:"):
            reasons.append(f"{label} `{Path(ref[5:]).name}` bytes changed")
        else:
            reasons.append(f"{label} changed")
    return reasons
