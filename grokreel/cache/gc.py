"""Garbage collection: store objects that no storyboard or lock file in the named folders uses.

A cache is often shared by the storyboards of one folder, so naming one storyboard protects every
storyboard beside it (each ``*.yaml``/``*.yml`` there that compiles) and every lock file there, on
either backend. Only ``objects/``, the action records pointing at collected objects and the review
page's thumbnails (``thumbs/``) of clips no longer in ``objects/`` are touched; the in-flight
journal and upload records are never collected (a journaled request may still deliver a paid clip).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import StoryboardError
from .lock import LockFile, lock_path
from .store import Store, read_record
from .tier import Tier

__all__ = [
    "Garbage",
    "find_garbage",
    "find_remote_garbage",
    "find_thumbnails",
    "referenced",
    "remove_garbage",
    "remove_remote_garbage",
    "remove_thumbnails",
    "siblings",
    "summary_line",
]

BACKENDS = ("animatic", "fal")


@dataclass(frozen=True)
class Garbage:
    """A collectable object and, where the action records say, what it was."""

    path: Path
    size: int
    age_days: float
    what: str = "unknown (no action record names it)"


def siblings(files: list[Path]) -> tuple[list[Path], list[Path], list[str]]:
    """Storyboards and lock files to protect: the named ones and every one in their folders.

    Returns (storyboards, lock files, notes about sibling storyboards that do not compile).
    """
    from ..plan import compile_file

    named = [f for f in files if f.suffix != ".lock"]
    folders = {f.resolve().parent for f in files}
    boards = {f.resolve() for f in named}
    notes = []
    for folder in sorted(folders):
        for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
            if path.resolve() in boards:
                continue
            try:
                compile_file(path)
            except StoryboardError:
                notes.append(f"{path} does not compile; its objects are not protected")
                continue
            boards.add(path.resolve())
    locks = {f.resolve() for f in files if f.suffix == ".lock"}
    locks |= {p.resolve() for folder in folders for p in folder.glob("*.lock")}
    return sorted(boards), sorted(locks), notes


def referenced(store: Store, storyboards: list[Path], locks: list[Path]) -> set[str]:
    """Output hashes the storyboards' current plans (on any backend) and lock files point at."""
    from ..build import open_project

    keep: set[str] = set()
    for storyboard in storyboards:
        for backend in BACKENDS:
            project = open_project(storyboard, cache_dir=store.root, backend=backend)
            keep |= {s.output for s in project.status() if s.output}
    for lock in [*locks, *(lock_path(s) for s in storyboards)]:
        nodes = LockFile.load(lock).nodes.values()
        keep |= {n["output_sha256"] for n in nodes if n.get("output_sha256")}
    return keep


def find_garbage(store: Store, keep: set[str], older_than_days: float) -> list[Garbage]:
    """Objects not in ``keep`` and not modified for ``older_than_days``, each described."""
    now = time.time()
    described = _descriptions(store)
    found = []
    for path in sorted(store.objects.glob("??/*")):
        if path.name in keep or path.name.startswith("."):
            continue
        stat = path.stat()
        age = (now - stat.st_mtime) / 86400
        if age >= older_than_days:
            what = described.get(path.name, Garbage.what)
            found.append(Garbage(path, stat.st_size, age, what))
    return found


def _descriptions(store: Store) -> dict[str, str]:
    """Object hash → what made it, from the action records (current output and earlier takes)."""
    out: dict[str, str] = {}
    for record_path in sorted(store.actions.glob("??/*.json")):
        record = read_record(record_path) or {}
        job, kind = record.get("job", "?"), record.get("kind", "?")
        takes = [t for t in record.get("takes") or [] if isinstance(t, str)]
        for number, sha in enumerate(takes, 1):
            out.setdefault(sha, f"{kind} `{job}`, earlier take {number} of {len(takes) + 1}")
        if isinstance(record.get("output"), str):
            latest = f", take {len(takes) + 1}" if takes else ""
            out[record["output"]] = f"{kind} `{job}`{latest}"
    return out


def remove_garbage(store: Store, garbage: list[Garbage]) -> None:
    """Delete the objects and the action records that name them."""
    gone = {g.path.name for g in garbage}
    for record_path in store.actions.glob("??/*.json"):
        record = read_record(record_path)
        if record is not None and record.get("output") in gone:
            record_path.unlink(missing_ok=True)
    for item in garbage:
        item.path.unlink(missing_ok=True)


def find_thumbnails(store: Store, garbage: list[Garbage]) -> list[Garbage]:
    """Review-page thumbnails of clips gone from the store, or going with ``garbage``: no page can
    show them again (a clip made again is thumbnailed again), so they go whatever their age."""
    from ..review.thumbs import cached_thumbnails

    now, going = time.time(), {g.path.name for g in garbage}
    found = []
    for path, clip in cached_thumbnails(store):
        if clip in going or not store.blob_path(clip).is_file():
            stat = path.stat()
            age = (now - stat.st_mtime) / 86400
            found.append(Garbage(path, stat.st_size, age, f"thumbnail of clip {clip[:12]}"))
    return found


def remove_thumbnails(thumbs: list[Garbage]) -> None:
    """Delete them, after ``remove_garbage``: thumbnails a crash in between leaves behind show
    clips that are gone, so the next `gc` finds them."""
    for item in thumbs:
        item.path.unlink(missing_ok=True)


def summary_line(item: Garbage) -> str:
    """One listing line: object, size, age and what it was."""
    mb, days = item.size / 1e6, item.age_days
    return f"{item.path.name}  {mb:8.2f} MB  {days:5.1f} days  {item.what}"


def find_remote_garbage(remote: Tier, keep: set[str], older_than_days: float) -> list[Garbage]:
    """Blobs in the remote cache that nothing in ``keep`` names, untouched for long enough;
    the journal (claims, receipts) and upload records are never collected."""
    now = time.time()
    found = []
    for item in remote.names("objects/"):
        sha = item.name.rsplit("/", 1)[-1]
        age = (now - item.modified) / 86400
        if sha not in keep and age >= older_than_days:
            found.append(Garbage(Path(item.name), item.size, age, "remote object"))
    return found


def remove_remote_garbage(remote: Tier, garbage: list[Garbage]) -> None:
    """Delete the records that name collected blobs first (a record never outlives its blob),
    then the blobs."""
    gone = {g.path.name for g in garbage}
    for item in remote.names("actions/"):
        try:
            record = json.loads(remote.read(item.name) or b"")
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("output") in gone:
            remote.delete(item.name)
    for g in garbage:
        remote.delete(str(g.path))
