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

from .store import atomic_write_text

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


@dataclass
class LockFile:
    path: Path
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def read(cls, storyboard: Path) -> LockFile:
        path = lock_path(storyboard)
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            return cls(path)
        except json.JSONDecodeError as exc:
            from .errors import PlanError

            raise PlanError(
                f"{path} is not a valid lock file ({exc}); delete it to rebuild it"
            ) from None
        return cls(path, data.get("nodes", {}))

    def entry(self, job_id: str, key: str | None) -> dict[str, Any] | None:
        """The locked entry for ``job_id`` when it was made by the same request (same key)."""
        found = self.nodes.get(job_id)
        return found if found and key and found.get("key") == key else None

    def update(self, job_id: str, entry: dict[str, Any]) -> None:
        self.nodes[job_id] = {k: entry[k] for k in FIELDS if entry.get(k) is not None}

    def keep_only(self, job_ids: set[str]) -> None:
        self.nodes = {k: v for k, v in self.nodes.items() if k in job_ids}

    def text(self) -> str:
        data = {"version": LOCK_VERSION, "nodes": dict(sorted(self.nodes.items()))}
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    def save(self) -> None:
        text = self.text()
        if not self.path.is_file() or self.path.read_text() != text:
            atomic_write_text(self.path, text)
