"""The content store: atomic writes, verified reads, and an action map that never lies."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from grokreel.cache.store import Store, canonical_json
from grokreel.errors import StoreError


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "cache")


def _file(tmp_path: Path, data: bytes, name: str = "clip.mp4") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_put_names_blob_by_its_hash(store, tmp_path):
    """A blob is stored under the SHA-256 of its bytes and the source file is moved in."""
    src = _file(tmp_path, b"frames")
    sha, size = store.put(src)
    assert sha == hashlib.sha256(b"frames").hexdigest() and size == 6
    assert store.blob_path(sha).read_bytes() == b"frames"
    assert not src.exists()


def test_truncated_blob_is_never_served(store, tmp_path):
    """A blob damaged on disk fails verification, is removed, and its action stops matching."""
    sha, size = store.put(_file(tmp_path, b"0123456789"))
    store.put_action("k" * 64, {"output": sha, "size": size})
    store.blob_path(sha).write_bytes(b"01234")
    assert store.get_action("k" * 64) is None  # size mismatch: a miss, so the job re-runs
    with pytest.raises(StoreError, match="damaged"):
        store.open_verified(sha)
    assert not store.blob_path(sha).exists()


def test_same_size_corruption_is_caught_by_rehash(store, tmp_path):
    """Corruption that keeps the size is caught when the blob is opened for use."""
    sha, _ = store.put(_file(tmp_path, b"aaaa"))
    store.blob_path(sha).write_bytes(b"aaab")
    with pytest.raises(StoreError):
        store.open_verified(sha)


def test_export_is_atomic_and_verified(store, tmp_path):
    """Exporting writes the destination whole, leaving no temp files beside it."""
    sha, _ = store.put(_file(tmp_path, b"film"))
    dest = tmp_path / "out" / "film.mp4"
    store.export(sha, dest)
    assert dest.read_bytes() == b"film"
    assert [p.name for p in dest.parent.iterdir()] == ["film.mp4"]


def test_action_roundtrip_and_missing(store, tmp_path):
    """An action record comes back as written; an unknown key is a miss."""
    sha, size = store.put(_file(tmp_path, b"x"))
    store.put_action("a" * 64, {"output": sha, "size": size, "job": "opening"})
    assert store.get_action("a" * 64)["job"] == "opening"
    assert store.get_action("b" * 64) is None


def test_canonical_json_is_order_independent():
    """Key material does not depend on dict order or whitespace."""
    assert canonical_json({"b": 1, "a": [1, 2]}) == canonical_json({"a": [1, 2], "b": 1})


def test_has_checks_presence_and_size(store, tmp_path):
    """`has` is false for a missing blob and for one of the wrong size."""
    sha, size = store.put(_file(tmp_path, b"abc"))
    assert store.has(sha) and store.has(sha, size)
    assert not store.has(sha, size + 1)
    store.blob_path(sha).unlink()
    assert not store.has(sha)
