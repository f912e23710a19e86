"""Cache keys: SHA-256 over canonical JSON of everything that decides a job's output.

A key holds the key-schema version, the backend (for rendered jobs), the endpoint, the normalized
request with every media reference replaced by the content hash it points at, and the take. Names,
notes, titles and the cut's order are not in a shot's key. A draft of the animatic backend also
holds the animatic's version (``ANIMATIC_ENGINE``) and the storyboard's font, since our own code
draws it in that font; a paid render's key holds nothing of ours, so no change here can make a user
pay for a clip again.

A paid request's journal entry, lease and claim go by its *request key*: the same payload with each
upstream clip named by the fal request that made it (``fal:<request id>``) instead of its content.
It is known the moment fal names the clip, so a chain's next link is journaled and submitted while
that clip downloads (execute.py); the cache key, known once the clip is stored, files the output.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .backends import animatic
from .cache.store import canonical_json, sha256_file
from .cut.encoding import ENGINE as ENCODER
from .plan import Job

__all__ = ["ENGINES", "KEY_SCHEMA", "FileHashes", "job_key", "resolve_refs"]

KEY_SCHEMA = 1
# The local code that makes each kind of local job's output, in that job's key (``engine``).
CUT_ENGINE = f"concat-1/{ENCODER}"
FRAME_ENGINE = "pyav-frame-1"
NORMALIZE_ENGINE = f"normalize-3/{ENCODER}"  # 3: PCM sound in clips (2: text per font run)
ENGINES = {"cut": CUT_ENGINE, "frame": FRAME_ENGINE, "normalize": NORMALIZE_ENGINE}


class FileHashes:
    """Hashes of local input files, memoized by (size, mtime) for the length of a process."""

    def __init__(self) -> None:
        self._seen: dict[Path, tuple[int, int, str]] = {}

    def __call__(self, path: Path) -> str:
        stat = path.stat()
        cached = self._seen.get(path)
        if cached and cached[:2] == (stat.st_size, stat.st_mtime_ns):
            return cached[2]
        sha = sha256_file(path)
        self._seen[path] = (stat.st_size, stat.st_mtime_ns, sha)
        return sha


def resolve_refs(value: Any, resolve: Callable[[str], str]) -> Any:
    """Replace every ``job:``/``file:`` reference inside ``value`` with ``resolve(ref)``."""
    if isinstance(value, str) and value.startswith(("job:", "file:")):
        return resolve(value)
    if isinstance(value, list):
        return [resolve_refs(v, resolve) for v in value]
    if isinstance(value, dict):
        return {k: resolve_refs(v, resolve) for k, v in value.items()}
    return value


def job_key(job: Job, backend: str, resolve: Callable[[str], str], engine: str = "") -> str:
    """The job's cache key; ``resolve`` maps a reference to ``sha256:…`` of its content.

    ``engine`` names the local code that makes a local job's output (frames, normalizing, the
    cut); a job rendered on the animatic backend gets the animatic's own here, so the build, its
    status and the review page always agree on a draft's key."""
    payload: dict[str, Any] = {
        "schema": KEY_SCHEMA,
        "kind": job.kind,
        "request": resolve_refs(job.request, resolve),
    }
    if job.endpoint:  # rendered by a backend: the backend and endpoint decide the output
        payload |= {"backend": backend, "endpoint": job.endpoint_id, "take": job.take}
        if backend == animatic.AnimaticBackend.name:  # drawn by our code, in the storyboard's font
            engine = animatic.ANIMATIC_ENGINE
            if job.font:
                payload["font"] = resolve(job.font)
    if engine:
        payload["engine"] = engine
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()
