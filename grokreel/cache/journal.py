"""The in-flight request journal: never pay twice for one clip.

    .grokreel/journal/<job key>.json   one paid request that has no clip in the store yet
    .grokreel/journal/done/ab/<key>.json   its receipt once the clip is stored (request → blob)

The moment fal answers a submit with a request id, the entry is written atomically (temp file,
fsync, rename), before anything else happens. A later build that needs the same job finds the
entry and resumes polling that request instead of submitting a new one. The entry is removed only
when the clip is safely in the store (``Backend.release``), when the status reports the request
failed, when fal answers 404 for it, or when a cancel is confirmed (docs/faults.md). Only the
build holding the job's lease (``lease.py``) writes its entry. It never holds the API key.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .store import atomic_write_text

if TYPE_CHECKING:
    from .claims import Claims

__all__ = ["Journal", "JournalEntry"]


@dataclass(frozen=True)
class JournalEntry:
    """One submitted request, with the URLs fal gave for it (they are not rebuilt from the id)."""

    key: str
    shot: str
    endpoint: str
    request_id: str
    status_url: str
    response_url: str
    cancel_url: str
    queue_url: str
    time: float = field(default_factory=time.time)
    cancel_requested: bool = False  # fal answered CANCELLATION_REQUESTED: it may end unbilled

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JournalEntry:
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in names})


class Journal:
    """Durable job key → in-flight request map under ``<cache_dir>/journal/``."""

    def __init__(self, cache_dir: Path, claims: Claims | None = None):
        self.root = Path(cache_dir) / "journal"
        self.claims = claims  # the journal shared with other machines (claims.py), if any

    def _path(self, key: str) -> Path:
        if not key or "/" in key or key.startswith("."):
            raise ValueError(f"not a job key: {key!r}")
        return self.root / f"{key}.json"

    def record(self, entry: JournalEntry, *, share: bool = True) -> None:
        """Write ``entry`` durably; when this returns, a crash cannot lose the request id. With a
        shared journal, this machine's claim names the request too (unless ``share`` is off:
        the request is another machine's, followed here)."""
        text = json.dumps(asdict(entry), indent=1, sort_keys=True)
        atomic_write_text(self._path(entry.key), text)
        if self.claims is not None and share:
            self.claims.share(entry)

    def get(self, key: str) -> JournalEntry | None:
        """The entry for ``key``; an unreadable file counts as absent (it was never completed)."""
        try:
            return JournalEntry.from_json(json.loads(self._path(key).read_text()))
        except (OSError, ValueError, TypeError, AttributeError):
            return None

    def clear(self, key: str) -> None:
        """The request ended without a clip: forget it here and in the shared journal."""
        self._path(key).unlink(missing_ok=True)
        if self.claims is not None:
            self.claims.drop(key)

    def settle(self, key: str, output: str) -> None:
        """The request's clip is stored as blob ``output``: keep a receipt, end the entry.

        Receipts (``journal/done/<key>.json``) let a lost action map be rebuilt from the objects
        without paying: they say which blob a paid request produced."""
        entry = self.get(key)
        if entry is not None:
            receipt = asdict(entry) | {"output": output}
            atomic_write_text(self._receipt(key), json.dumps(receipt, indent=1, sort_keys=True))
            if self.claims is not None:
                self.claims.settle(key, receipt)
        self._path(key).unlink(missing_ok=True)

    def receipt(self, key: str) -> dict[str, Any] | None:
        """The receipt of a finished paid request for ``key``, if one was kept."""
        try:
            data = json.loads(self._receipt(key).read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and isinstance(data.get("output"), str) else None

    def _receipt(self, key: str) -> Path:
        return self._path(key).parent / "done" / key[:2] / f"{key}.json"

    def entries(self) -> list[JournalEntry]:
        """Every readable entry, oldest first."""
        found = (self.get(path.stem) for path in self.root.glob("*.json"))
        return sorted((e for e in found if e is not None), key=lambda e: e.time)
