"""Garbage collection: store objects that no given storyboard or lock file references.

Only ``objects/`` and the action records pointing at collected objects are touched; the in-flight
journal and upload records are never collected (a journaled request may still deliver a paid clip).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from .store import Store

__all__ = ["Garbage", "find_garbage", "remove_garbage"]


@dataclass(frozen=True)
class Garbage:
    path: Path
    size: int
    age_days: float


def referenced(store: Store, storyboards: list[Path], locks: list[Path]) -> set[str]:
    """Output hashes the storyboards' current plans and the lock files point at."""
    from .build import open_project

    keep: set[str] = set()
    for storyboard in storyboards:
        project = open_project(storyboard, cache_dir=store.root)
        keep |= {s.output for s in project.status() if s.output}
        keep |= {n["output_sha256"] for n in project.lock.nodes.values() if n.get("output_sha256")}
    for lock in locks:
        data = json.loads(lock.read_text())
        keep |= {
            n["output_sha256"] for n in data.get("nodes", {}).values() if n.get("output_sha256")
        }
    return keep


def find_garbage(store: Store, keep: set[str], older_than_days: float) -> list[Garbage]:
    """Objects not in ``keep`` and not modified for ``older_than_days``."""
    now = time.time()
    found = []
    for path in sorted(store.objects.glob("??/*")):
        if path.name in keep or path.name.startswith("."):
            continue
        stat = path.stat()
        age = (now - stat.st_mtime) / 86400
        if age >= older_than_days:
            found.append(Garbage(path, stat.st_size, age))
    return found


def remove_garbage(store: Store, garbage: list[Garbage]) -> None:
    """Delete the objects and the action records that name them."""
    gone = {g.path.name for g in garbage}
    for record_path in store.actions.glob("??/*.json"):
        try:
            output = json.loads(record_path.read_text()).get("output")
        except (OSError, json.JSONDecodeError):
            continue
        if output in gone:
            record_path.unlink(missing_ok=True)
    for item in garbage:
        item.path.unlink(missing_ok=True)
