"""The local cache in front of a remote one: local first, pull on a miss, write through.

A job missing locally is looked up in the remote before anything is paid: its action record,
then its blob, downloaded into the store's scratch space and re-hashed; a blob whose bytes are
not its name is deleted from the remote (so the next push replaces it) and never used. After a
job, its blob is pushed first and its record second, so a record never names a missing blob.
"""

from __future__ import annotations

import json
import shutil
from typing import Any

from ..errors import RemoteError
from .store import Store, sha256_file
from .tier import Tier, action_name, blob_name

__all__ = ["peek", "pull", "pull_blob", "push"]


def _remote(store: Store) -> Tier:
    assert store.remote is not None, "the store has no remote"
    return store.remote


def _record(remote: Tier, key: str) -> dict[str, Any] | None:
    data = remote.read(action_name(key))
    try:
        record = json.loads(data or b"")
    except ValueError:
        return None
    ok = isinstance(record, dict) and isinstance(record.get("output"), str)
    return record if ok else None


def peek(store: Store, key: str) -> dict[str, Any] | None:
    """The remote's record for ``key`` when its blob is there with the recorded size (for
    `plan`: nothing is downloaded)."""
    remote = _remote(store)
    record = _record(remote, key)
    if record is None:
        return None
    found = remote.head(blob_name(record["output"]))
    size = record.get("size")
    return record if found is not None and (size is None or found.size == size) else None


def pull_blob(store: Store, sha: str) -> bool:
    """Bring blob ``sha`` from the remote into the store, verified; False when the remote has
    no intact copy (a damaged one is deleted there)."""
    if store.has(sha):
        return True
    remote = _remote(store)
    workdir = store.workdir()
    try:
        dest = workdir / "blob"
        if not remote.download(blob_name(sha), dest):
            return False
        if sha256_file(dest) != sha:
            remote.delete(blob_name(sha))  # damaged at rest: never used; the next push heals it
            return False
        store.put(dest)
        return True
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def pull(store: Store, key: str) -> dict[str, Any] | None:
    """``key``'s record and blob from the remote into the local store; None on a miss."""
    record = _record(_remote(store), key)
    if record is None or not pull_blob(store, record["output"]):
        return None
    store.put_action(key, record)
    return store.get_action(key)


def push(store: Store, key: str, record: dict[str, Any]) -> None:
    """Write ``key``'s blob (unless the remote has it, intact in size) then its record."""
    remote = _remote(store)
    sha = record["output"]
    found = remote.head(blob_name(sha))
    if found is None or found.size != record.get("size", found.size):
        remote.upload(store.open_verified(sha), blob_name(sha))
    text = json.dumps(record, indent=1, sort_keys=True).encode()
    if not remote.write(action_name(key), text):
        raise RemoteError(f"the remote cache {remote.url} refused the record of {key[:12]}")
