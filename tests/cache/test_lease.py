"""update_json: a merge under the file's mutex, and no mutex at all for a change already made."""

from __future__ import annotations

import json
from pathlib import Path

from grokreel.cache import lease
from grokreel.cache.lease import update_json


def _add(entry: dict[str, int]):
    """A pure change, as update_json asks: the file's entries with ``entry`` merged in."""
    return lambda current: {"nodes": current.get("nodes", {}) | entry}


def test_a_change_is_written_under_the_mutex(tmp_path: Path, monkeypatch):
    """A new entry is merged into what the file holds, with the file's mutex held."""
    path = tmp_path / "state.json"
    path.write_text(json.dumps({"nodes": {"a": 1}}))
    held = []
    original = lease.mutex

    def spy(cache_dir: Path, file: Path):
        held.append(file)
        return original(cache_dir, file)

    monkeypatch.setattr(lease, "mutex", spy)
    assert update_json(tmp_path / "cache", path, _add({"b": 2})) == {"nodes": {"a": 1, "b": 2}}
    assert json.loads(path.read_text()) == {"nodes": {"a": 1, "b": 2}} and held == [path]


def test_a_change_the_file_already_holds_takes_no_lock_and_writes_nothing(tmp_path: Path):
    """A no-op build's update: the file is left as it is, and no lock file is made."""
    path = tmp_path / "state.json"
    path.write_text('{"nodes": {"a": 1}}')
    assert update_json(tmp_path / "cache", path, _add({"a": 1})) == {"nodes": {"a": 1}}
    assert path.read_text() == '{"nodes": {"a": 1}}'
    assert not (tmp_path / "cache" / "leases").exists()


def test_a_missing_or_damaged_file_is_written_afresh(tmp_path: Path):
    """Missing, unreadable or not an object: the change starts from {} and the file is written."""
    path = tmp_path / "state.json"
    for text in (None, "{not json", "[1, 2]"):
        if text is None:
            path.unlink(missing_ok=True)
        else:
            path.write_text(text)
        assert update_json(tmp_path / "cache", path, _add({"a": 1})) == {"nodes": {"a": 1}}
        assert json.loads(path.read_text()) == {"nodes": {"a": 1}}
