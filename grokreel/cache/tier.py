"""The one small interface both caches speak: named objects in a folder or in a bucket.

A name is a path under the cache's root, the same in both places, so the remote mirrors the
local layout exactly (``objects/ab/<sha256>``, ``actions/cd/<key>.json``, ``journal/<key>.json``,
``journal/done/ef/<key>.json``, ``uploads/ab/<sha256>.json``). ``Folder`` is the local cache
seen through this interface; ``remote.Remote`` is the bucket. The layering (local first, write
through, pull on a miss) is in ``sync.py``; the claims that make one payment per job across
machines are in ``claims.py``; both work on either implementation.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

from .remote import RemoteObject
from .store import atomic_copy, atomic_write_text

__all__ = [
    "Folder",
    "Tier",
    "action_name",
    "blob_name",
    "claim_name",
    "receipt_name",
    "upload_name",
]


def blob_name(sha: str) -> str:
    return f"objects/{sha[:2]}/{sha}"


def action_name(key: str) -> str:
    return f"actions/{key[:2]}/{key}.json"


def claim_name(key: str) -> str:
    return f"journal/{key}.json"


def receipt_name(key: str) -> str:
    return f"journal/done/{key[:2]}/{key}.json"


def upload_name(sha: str) -> str:
    return f"uploads/{sha[:2]}/{sha}.json"


class Tier(Protocol):
    """Named objects: read, conditional write, stream in and out, delete, list."""

    url: str

    def read(self, name: str) -> bytes | None: ...

    def head(self, name: str) -> RemoteObject | None: ...

    def write(
        self, name: str, data: bytes, *, create: bool = False, e_tag: str | None = None
    ) -> bool: ...

    def upload(self, src: Path, name: str) -> None: ...

    def download(self, name: str, dest: Path) -> bool: ...

    def delete(self, name: str) -> None: ...

    def names(self, prefix: str) -> list[RemoteObject]: ...


class Folder:
    """A ``Tier`` on a local folder: create-only by hard link (atomic, fails if present), the
    version tag is the modification time in nanoseconds."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.url = str(self.root)

    def _path(self, name: str) -> Path:
        if name.startswith("/") or ".." in name.split("/"):
            raise ValueError(f"not an object name: {name!r}")
        return self.root / name

    def read(self, name: str) -> bytes | None:
        try:
            return self._path(name).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None

    def head(self, name: str) -> RemoteObject | None:
        try:
            stat = self._path(name).stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        return RemoteObject(name, stat.st_size, stat.st_mtime, str(stat.st_mtime_ns))

    def write(
        self, name: str, data: bytes, *, create: bool = False, e_tag: str | None = None
    ) -> bool:
        path = self._path(name)
        if e_tag is not None:
            found = self.head(name)
            if found is None or found.e_tag != e_tag:
                return False
        if not create:
            atomic_write_text(path, data.decode("utf-8"))
            return True
        tmp = path.with_name(f".{path.name}.{os.getpid()}.new")
        atomic_write_text(tmp, data.decode("utf-8"))
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        finally:
            tmp.unlink(missing_ok=True)
        return True

    def upload(self, src: Path, name: str) -> None:
        atomic_copy(src, self._path(name))

    def download(self, name: str, dest: Path) -> bool:
        if not self._path(name).is_file():
            return False
        atomic_copy(self._path(name), dest)
        return True

    def delete(self, name: str) -> None:
        self._path(name).unlink(missing_ok=True)

    def names(self, prefix: str) -> list[RemoteObject]:
        base = self.root / prefix.rstrip("/")
        found = (p for p in base.rglob("*") if p.is_file()) if base.is_dir() else iter(())
        heads = (self.head(str(p.relative_to(self.root))) for p in sorted(found))
        return [h for h in heads if h is not None]
