"""The lock file: `<storyboard>.lock`, the takes a film was built from, meant to be committed.

One entry per node with its key, output sha256, endpoint, request id, source URL, duration, size and
cost. Deterministic (sorted, no timestamps) so it diffs well; it never holds a secret. With it,
a machine whose cache is empty fetches the locked takes from their URLs instead of paying again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .lease import update_json

__all__ = ["LOCK_VERSION", "LockFile", "lock_path"]

LOCK_VERSION = 1
FIELDS = (
    "kind",
    "endpoint",
    "key",
    "output_sha256",
    "request_id",
    "source_url",
    "duration",
    "size",
    "cost",
    "take",
)


def lock_path(storyboard: Path) -> Path:
    """`film.yaml` → `film.lock`, beside it."""
    return storyboard.with_suffix(".lock")


def _damaged(path: Path, why: str) -> Exception:
    from ..errors import PlanError

    return PlanError(
        f"{path} is not a valid lock file ({why}); restore it (e.g. `git checkout {path.name}`) "
        "or delete it, and the next build writes a new one"
    )


@dataclass
class LockFile:
    path: Path
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    _updates: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    _keep: set[str] | None = field(default=None, repr=False)

    @classmethod
    def read(cls, storyboard: Path) -> LockFile:
        return cls.load(lock_path(storyboard))

    @classmethod
    def load(cls, path: Path) -> LockFile:
        """The lock file at ``path`` (empty when absent); a damaged one is a PlanError."""
        try:
            data = json.loads(path.read_bytes().decode("utf-8"))
        except FileNotFoundError:
            return cls(path)
        except ValueError as exc:
            raise _damaged(path, str(exc)) from None
        nodes = data.get("nodes", {}) if isinstance(data, dict) else None
        if not isinstance(nodes, dict) or not all(isinstance(n, dict) for n in nodes.values()):
            raise _damaged(path, "it does not hold a `nodes` mapping")
        return cls(path, nodes)

    def entry(self, job_id: str, key: str | None) -> dict[str, Any] | None:
        """The locked entry for ``job_id`` when it was made by the same request (same key)."""
        found = self.nodes.get(job_id)
        return found if found and key and found.get("key") == key else None

    def update(self, job_id: str, entry: dict[str, Any]) -> None:
        kept = {k: entry[k] for k in FIELDS if entry.get(k) is not None}
        self.nodes[job_id] = self._updates[job_id] = kept

    def keep_only(self, job_ids: set[str]) -> None:
        self._keep = set(job_ids)
        self.nodes = {k: v for k, v in self.nodes.items() if k in job_ids}

    def text(self) -> str:
        return _text(self.nodes)

    def save(self, cache_dir: Path) -> None:
        """Merge this build's entries into the file under its mutex (``cache_dir``'s), so two
        builds of one storyboard never drop each other's takes; unchanged text is not rewritten."""

        def merge(current: dict[str, Any]) -> dict[str, Any]:
            nodes = current.get("nodes") if current.get("version") == LOCK_VERSION else {}
            nodes = nodes if isinstance(nodes, dict) else {}
            nodes = nodes | self._updates
            if self._keep is not None:
                nodes = {k: v for k, v in nodes.items() if k in self._keep}
            return {"version": LOCK_VERSION, "nodes": nodes}

        self.nodes = update_json(cache_dir, self.path, merge, lambda data: _text(data["nodes"]))[
            "nodes"
        ]


def _text(nodes: dict[str, Any]) -> str:
    data = {"version": LOCK_VERSION, "nodes": dict(sorted(nodes.items()))}
    return json.dumps(data, indent=2, sort_keys=True) + "\n"
