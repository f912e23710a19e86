"""The in-flight request journal: durable, atomic, one entry per job key, never the key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grokreel.cache.journal import Journal, JournalEntry


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "cache")


def entry(key: str = "ab" * 32, request_id: str = "req-1", when: float = 1.0) -> JournalEntry:
    base = f"https://queue.fal.run/xai/grok-imagine-video/requests/{request_id}"
    return JournalEntry(
        key,
        "opening",
        "xai/grok-imagine-video/text-to-video",
        request_id,
        f"{base}/status",
        base,
        f"{base}/cancel",
        "https://queue.fal.run",
        when,
    )


def test_recorded_entry_reads_back(journal):
    """An entry written is read back field for field, from a JSON file named by the job key."""
    journal.record(entry())
    assert journal.get("ab" * 32) == entry()
    data = json.loads((journal.root / f"{'ab' * 32}.json").read_text())
    assert set(data) == {
        "key",
        "shot",
        "endpoint",
        "request_id",
        "status_url",
        "response_url",
        "cancel_url",
        "queue_url",
        "time",
        "cancel_requested",
    }


def test_write_is_atomic_and_leaves_no_temp_files(journal):
    """Rewriting an entry replaces it whole; no temporary file is left beside it."""
    journal.record(entry(request_id="req-1"))
    journal.record(entry(request_id="req-2"))
    assert journal.get("ab" * 32).request_id == "req-2"
    assert [p.name for p in journal.root.iterdir()] == [f"{'ab' * 32}.json"]


def test_clear_forgets_and_is_idempotent(journal):
    """Clearing removes the entry; clearing again (or an unknown key) is fine."""
    journal.record(entry())
    journal.clear("ab" * 32)
    journal.clear("ab" * 32)
    assert journal.get("ab" * 32) is None and journal.entries() == []


@pytest.mark.parametrize("text", ["{not json", '{"key": "x"}', "[]"])
def test_unreadable_entries_count_as_absent(journal, text):
    """A truncated or foreign file is no entry (and does not break listing the others)."""
    journal.record(entry(key="cd" * 32))
    (journal.root / f"{'ab' * 32}.json").write_text(text)
    assert journal.get("ab" * 32) is None
    assert [e.key for e in journal.entries()] == ["cd" * 32]


def test_entries_are_oldest_first(journal):
    """Entries list in the order their requests were made."""
    journal.record(entry(key="bb" * 32, when=2.0))
    journal.record(entry(key="aa" * 32, when=1.0))
    assert [e.key for e in journal.entries()] == ["aa" * 32, "bb" * 32]


@pytest.mark.parametrize("key", ["", "../escape", ".hidden", "a/b"])
def test_keys_cannot_escape_the_journal_folder(journal, key):
    """A malformed key is refused rather than written somewhere else."""
    with pytest.raises(ValueError):
        journal.record(entry(key=key))
