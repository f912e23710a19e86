"""One build at a time per job, across processes: the lease that makes "never pay twice" hold
when two builds (two terminals, two CI jobs, a watch loop) share one cache.

    .grokreel/leases/ab/ab12….lock   held (flock, through filelock) while a build renders a job

A build takes a job's lease before it looks in the journal or submits, and keeps it until the clip
is in the store. Another build that needs the same job waits for the lease, then finds the clip
stored. If the holder dies, the OS drops its lock, and the waiter resumes the journaled request
instead of submitting a second one. Small shared records (the state, the lock file) are updated
under ``mutex`` so two writers never lose each other's entries.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .store import atomic_write_text

if TYPE_CHECKING:
    import asyncio

    from filelock import FileLock

__all__ = ["Leases", "mutex", "update_json"]

POLL_SECONDS = 0.1  # how often a waiting build tries a lease another build holds


def _lock(path: Path) -> FileLock:
    # Imported here: a no-op build takes no lock (update_json), and `plan` none at all.
    from filelock import FileLock

    path.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(path, thread_local=False)


class Leases:
    """Per-job-key leases under ``<cache>/leases``; also serializes two jobs of one build that
    happen to share a key (two shots asking for the very same clip)."""

    def __init__(self, cache_dir: Path):
        self.root = Path(cache_dir) / "leases"
        self._local: dict[str, asyncio.Lock] = {}

    @asynccontextmanager
    async def hold(self, key: str, waiting: Callable[[], None]) -> AsyncIterator[None]:
        """Hold ``key``'s lease for the block; ``waiting()`` is called once if another build
        (or another job of this one) holds it first."""
        import asyncio  # here: `plan` imports this module (update_json) and holds no lease

        local = self._local.setdefault(key, asyncio.Lock())
        told = local.locked()
        if told:
            waiting()
        async with local:
            lock = _lock(self.root / key[:2] / f"{key}.lock")
            while not _try(lock):
                if not told:
                    waiting()
                    told = True
                await asyncio.sleep(POLL_SECONDS)
            try:
                yield
            finally:
                lock.release()


def _try(lock: FileLock) -> bool:
    from filelock import Timeout

    try:
        lock.acquire(blocking=False)
    except Timeout:
        return False
    return True


@contextmanager
def mutex(cache_dir: Path, path: Path) -> Iterator[None]:
    """Exclusive access to the shared file ``path`` among the builds using ``cache_dir``."""
    name = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:24]
    with _lock(Path(cache_dir) / "leases" / "files" / f"{name}.lock"):
        yield


def _pretty(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=1, sort_keys=True)


def update_json(
    cache_dir: Path,
    path: Path,
    change: Callable[[dict[str, Any]], dict[str, Any]],
    dump: Callable[[dict[str, Any]], str] = _pretty,
) -> dict[str, Any]:
    """Read ``path`` (a JSON object; missing or unreadable → ``{}``), apply ``change`` and write
    ``dump`` of the result atomically (unless unchanged), all under the file's mutex: a merge,
    never a lost update or a torn file.

    A change the file already holds (a no-op build's) needs no mutex: writes are atomic, so the
    file read is some build's whole result, and leaving it as it is loses nobody's update. Only
    a real change is made under the mutex, from the file as it is then (``change`` is pure: it
    may be applied twice)."""

    def merged() -> tuple[str | None, dict[str, Any], bool]:
        text, current = _read(path)
        updated = change(current if isinstance(current, dict) else {})
        return text, updated, text is not None and updated == current

    text, updated, unchanged = merged()
    if unchanged:
        return updated  # a no-op build: no lock, nothing to encode, nothing to write
    with mutex(cache_dir, path):
        text, updated, unchanged = merged()
        if not unchanged and (new := dump(updated)) != text:
            atomic_write_text(path, new)
    return updated


def _read(path: Path) -> tuple[str | None, Any]:
    """``path``'s text and JSON value; (None, {}) when it is missing or unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
        return text, json.loads(text or "")
    except (FileNotFoundError, ValueError):
        return None, {}
