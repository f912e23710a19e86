"""What a job can take instead of running: the cache, the lock file's take, the remote cache.

Every way here is free and is tried before anything is paid; a miss costs only the look. The
executor (execute.py) asks in order: the local cache (or a pinned take in it), the remote cache,
then a locked take's recorded URL; and it shares what it made through ``push``.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from typing import Any

from .cache import sync
from .cache.journal import Journal
from .cache.lock import LockFile
from .cache.store import Store
from .errors import GrokreelError
from .plan import Job
from .state import find_existing, is_fetchable

__all__ = ["Reuse"]


class Reuse:
    """The free ways to a job's output; trouble with one becomes a note, never a failure."""

    def __init__(
        self,
        store: Store,
        lock: LockFile | None,
        force: frozenset[str],
        told: Callable[[Job, str], None],
        notes: list[str],
    ):
        self.store, self.lock, self.force = store, lock, force
        self.told, self.notes = told, notes

    def cached(self, job: Job, key: str, paid: str) -> dict[str, Any] | None:
        """What the cache (or the lock file's pin) already holds for ``key``, unless forced;
        ``paid`` is the request key (keys.py), whose receipt recovers a lost record."""
        if job.id in self.force:
            return None
        found = find_existing(self.store, self.lock, job.id, key, paid)
        if found is not None and found.get("recovered_from_journal"):
            self.store.put_action(key, found | {"request": job.request, "kind": job.kind})
        return found

    def paid_for(self, paid: str) -> bool:
        """Whether a build already stored the clip of request key ``paid`` (its receipt): a
        chain's next link about to go out early is then reused the usual way instead."""
        return Journal(self.store.root).receipt(paid) is not None

    async def pull(self, job: Job, key: str) -> dict[str, Any] | None:
        """``key``'s output from the remote cache, verified, before anything is paid."""
        if self.store.remote is None or job.id in self.force:
            return None
        record = await asyncio.to_thread(sync.pull, self.store, key)
        if record is not None:
            self.told(job, "pulled from the remote cache")
        return record

    async def push(self, job: Job, key: str, record: dict[str, Any]) -> None:
        """Share a finished job; a failed push costs the other machines a pull, not this build."""
        if self.store.remote is None:
            return
        try:
            await asyncio.to_thread(sync.push, self.store, key, record)
        except GrokreelError as exc:
            self.notes.append(f"`{job.id}` was not shared with the remote cache: {exc}")

    async def fetch_locked(self, job: Job, key: str) -> dict[str, Any] | None:
        """A locked take missing from the cache, fetched from the remote cache or from its
        recorded URL, and verified."""
        entry = self.lock.entry(job.id, key) if self.lock else None
        if not entry or not (is_fetchable(entry) or self.store.remote is not None):
            return None
        workdir = self.store.workdir()
        try:
            self.told(job, "fetching locked take")
            if await self._pull_blob(entry["output_sha256"]):
                sha = entry["output_sha256"]
                size = self.store.blob_path(sha).stat().st_size
            elif not is_fetchable(entry):
                return None
            else:
                from .fetch import fetch_url  # httpx: only when a locked take is fetched

                path = await fetch_url(entry["source_url"], workdir / "take.mp4")
                sha, size = self.store.put(path)
        except GrokreelError as exc:
            self.notes.append(f"locked take of `{job.id}` can no longer be fetched: {exc}")
            return None
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        if sha != entry.get("output_sha256"):
            self.notes.append(f"locked take of `{job.id}` changed at its URL (sha256 mismatch)")
            return None
        record = {
            "key": key,
            "job": job.id,
            "kind": job.kind,
            "request": job.request,
            "output": sha,
            "size": size,
            "fetched_from_lock": True,
        } | {k: entry.get(k) for k in ("request_id", "source_url", "endpoint", "cost")}
        record["video"] = {"url": entry.get("source_url"), "duration": entry.get("duration")}
        self.store.put_action(key, record)
        await self.push(job, key, record)
        return record

    async def _pull_blob(self, sha: str) -> bool:
        if self.store.remote is None:
            return False
        return await asyncio.to_thread(sync.pull_blob, self.store, sha)
