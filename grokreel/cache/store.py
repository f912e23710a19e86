"""The content-hash cache: a content-addressed object store plus an action map.

    .grokreel/objects/ab/ab12…   blobs, named by the SHA-256 of their bytes
    .grokreel/actions/cd/cd34….json   job key → output hash and metadata

Every write is atomic (temp file in the same folder + rename), and a blob is re-hashed before it is
handed out, so a truncated or damaged file is never served: it is dropped and the job re-runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import StoreError

if TYPE_CHECKING:
    from .tier import Tier

__all__ = ["Store", "atomic_write_text", "canonical_json", "read_record", "sha256_file"]

CHUNK = 1 << 20


def canonical_json(value: Any) -> str:
    """The one JSON spelling of ``value`` that keys are computed over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _umask() -> int:
    """The process umask, read without changing it where the OS allows (threads write files)."""
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1], 8) for line in f if line.startswith("Umask:"))
    except (OSError, StopIteration, ValueError):
        mask = os.umask(0o022)
        os.umask(mask)
        return mask


@contextmanager
def _atomic(dest: Path, mode: str = "wb") -> Iterator[Any]:
    """Write ``dest`` whole or not at all, with the mode any new file would get (mkstemp: 0600)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, dest)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.filename is None:
            exc.filename = str(dest)  # a full disk says which file it was writing
        raise


def atomic_write_text(dest: Path, text: str) -> None:
    with _atomic(dest, "w") as f:
        f.write(text)


def atomic_copy(src: Path, dest: Path) -> None:
    with _atomic(dest) as out, open(src, "rb") as f:
        shutil.copyfileobj(f, out, CHUNK)


def read_record(path: Path) -> dict[str, Any] | None:
    """A JSON object from ``path``; None when it is missing or damaged (so the job runs again)."""
    try:
        record = json.loads(path.read_bytes().decode("utf-8"))
    except (FileNotFoundError, NotADirectoryError, ValueError):
        return None
    return record if isinstance(record, dict) else None


class Store:
    """Blobs by hash and records by job key, under one cache folder."""

    def __init__(self, root: Path, remote: Tier | None = None):
        self.root = Path(root).resolve()
        self.remote = remote  # the shared cache behind this one (sync.py), or None
        if self.root.exists() and not self.root.is_dir():
            raise StoreError(f"the cache folder {root} is a file; give --cache-dir a folder")
        self.objects = self.root / "objects"
        self.actions = self.root / "actions"
        self.scratch = self.root / "tmp"

    def blob_path(self, sha: str) -> Path:
        return self.objects / sha[:2] / sha

    def has(self, sha: str, size: int | None = None) -> bool:
        try:
            actual = self.blob_path(sha).stat().st_size
        except FileNotFoundError:
            return False
        return size is None or actual == size

    def put(self, src: Path) -> tuple[str, int]:
        """Move ``src`` into the store (it must be on the same filesystem or it is copied)."""
        sha = sha256_file(src)
        dest = self.blob_path(sha)
        size = src.stat().st_size
        if self.has(sha, size):
            src.unlink()
            return sha, size
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(src, dest)
        except OSError:
            atomic_copy(src, dest)
            src.unlink()
        return sha, size

    def open_verified(self, sha: str) -> Path:
        """The blob's path after re-hashing it; a damaged blob is removed and StoreError raised."""
        path = self.blob_path(sha)
        if not path.is_file():
            raise StoreError(f"object {sha[:12]} is missing from the cache at {self.root}")
        if sha256_file(path) != sha:
            path.unlink(missing_ok=True)
            raise StoreError(
                f"object {sha[:12]} in {self.root} was damaged and has been removed; "
                "rebuild to render it again"
            )
        return path

    def export(self, sha: str, dest: Path) -> None:
        """Copy a verified blob to ``dest`` atomically (the user's file is never half-written)."""
        atomic_copy(self.open_verified(sha), dest)

    def _action_path(self, key: str) -> Path:
        return self.actions / key[:2] / f"{key}.json"

    def get_action(self, key: str) -> dict[str, Any] | None:
        """The record for ``key`` when its output blob is present with the right size."""
        record = read_record(self._action_path(key))
        if record is None or not isinstance(record.get("output"), str):
            return None
        return record if self.has(record["output"], record.get("size")) else None

    def put_action(self, key: str, record: dict[str, Any]) -> None:
        atomic_write_text(self._action_path(key), json.dumps(record, indent=1, sort_keys=True))

    def drop_action(self, key: str) -> None:
        self._action_path(key).unlink(missing_ok=True)

    def workdir(self) -> Path:
        """A fresh scratch folder on the store's filesystem, so outputs move in by rename; its
        name says which process made it, so ``sweep_scratch`` knows when it is abandoned."""
        self.scratch.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(dir=self.scratch, prefix=f"{_OWNER}-{os.getpid()}-"))

    def sweep_scratch(self) -> int:
        """Remove scratch folders left by builds of this machine that died (killed mid-download,
        mid-encode); a live build's folders are kept. Returns how many were removed."""
        removed = 0
        for folder in self.scratch.glob(f"{_OWNER}-*"):
            pid = folder.name.removeprefix(f"{_OWNER}-").split("-", 1)[0]
            if pid.isdigit() and not _alive(int(pid)):
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        return removed


_OWNER = socket.gethostname().replace("-", "_") or "host"


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine (a permission error means it does)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True
