"""A chain's next link goes out the moment fal names its clip, while that clip downloads; the
journal, the lease and a resume go by the request key (keys.py), so no link is paid twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from grokreel import open_project
from grokreel.cache.journal import Journal, JournalEntry
from grokreel.testing import FalTestServer

CHAIN = """
    defaults: {resolution: 480p, duration: 1}
    shots:
      a: {prompt: dawn, duration: 2}
      c: {kind: extend, video: a, prompt: mist, duration: 2}
"""


def submitted(fal: FalTestServer, prompt: str) -> list[str]:
    """Request ids of the submissions carrying ``prompt``."""
    return [s.request_id for s in fal.submissions if s.input["prompt"] == prompt]


def downloaded(fal: FalTestServer, request_id: str) -> float:
    """When the server finished sending the clip of ``request_id`` (its first download)."""
    name = Path(fal.queue.jobs[request_id].video["url"]).name
    return min(c.at for c in fal.calls if c.phase == "download" and c.path.endswith(name))


def test_the_next_link_is_submitted_while_its_clip_downloads(build_fal, write_board, fal_env):
    """With a slow CDN (0.8 s per download), the extend reaches fal before its source clip has
    finished downloading, by the clip's fal URL; the output is filed under the same cache key
    as ever (a rebuild renders nothing) and the journal ends empty, with the receipts kept."""
    fal_env.faults.latency["download"] = 0.8
    board = write_board(CHAIN)
    result = build_fal(board)
    assert result.ok, [o.error for o in result.outcomes.values()]
    (a,), (c,) = submitted(fal_env, "dawn"), submitted(fal_env, "mist")
    assert fal_env.queue.jobs[c].submitted < downloaded(fal_env, a)
    assert fal_env.queue.jobs[c].input["video_url"] == result.outcomes["a"].record["source_url"]
    journal = Journal(board.parent / ".grokreel")
    assert journal.entries() == []
    assert len(list((journal.root / "done").rglob("*.json"))) == 2
    statuses = {s.job.id: s for s in open_project(board, backend="fal").status()}
    assert statuses["c"].status == "cached" and statuses["c"].key == result.outcomes["c"].key
    assert build_fal(board).count("rendered") == 0 and len(fal_env.submissions) == 2


def test_a_download_does_not_hold_a_slot_at_the_api(write_board, fal_env):
    """With one request allowed at the API at a time, the extend still goes out while its
    source clip downloads: a request's slot is given back once fal has named its clip."""
    fal_env.faults.latency["download"] = 0.8
    board = write_board(CHAIN)
    result = open_project(board, backend="fal").build(targets=["c"], max_in_flight=1)
    assert result.ok
    (a,), (c,) = submitted(fal_env, "dawn"), submitted(fal_env, "mist")
    assert fal_env.queue.jobs[c].submitted < downloaded(fal_env, a)


def test_a_link_whose_source_fails_to_download_is_resumed_unpaid(build_fal, write_board, fal_env):
    """The source clip's download fails for good after its extend went out: the extend is
    skipped, both requests stay journaled, and the next build fetches both clips without a
    single new submit."""
    fal_env.faults.run_seconds = 2.0  # the extend still runs while the 20 attempts fail
    fal_env.burst("download", "503", times=20)  # every attempt at the first clip's download
    board = write_board(CHAIN)
    first = build_fal(board, ["a", "c"])
    assert first.outcomes["a"].status == "failed"
    assert first.outcomes["c"].status == "skipped"
    assert "stays journaled" in (first.outcomes["c"].error or "")
    assert len(Journal(board.parent / ".grokreel").entries()) == 2
    again = build_fal(board, ["a", "c"])
    assert again.ok and again.count("rendered") == 2
    assert len(submitted(fal_env, "dawn")) == len(submitted(fal_env, "mist")) == 1


def test_sigkill_while_the_clip_downloads_resumes_the_link(fal, write_board):
    """SIGKILL after the extend was journaled and before its source clip was stored: the next
    build resumes both requests (the extend by its request key) and pays for neither again."""
    fal.faults.latency["download"] = 3.0
    board = write_board(CHAIN + "    cut: [a, c]\n    output: {resolution: 480p}\n")
    env = os.environ | fal.env() | {"GROKREEL_FAL_POLL_INTERVAL": "0.02"}
    command = [sys.executable, "-m", "grokreel", "build", str(board), "--backend", "fal"]
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    journal = Journal(board.parent / ".grokreel")
    deadline = time.monotonic() + 30
    while len(journal.entries()) < 2 and first.poll() is None:
        assert time.monotonic() < deadline, "the extend was never journaled"
        time.sleep(0.01)
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=30)
    assert not any(c.phase == "download" for c in fal.calls), "the kill came too late"
    fal.faults.latency["download"] = 0.0
    again = subprocess.run(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60
    )
    assert again.returncode == 0, again.stdout
    assert again.stdout.count("resuming") == 2
    assert len(submitted(fal, "dawn")) == len(submitted(fal, "mist")) == 1


def test_an_extend_journaled_by_its_cache_key_is_resumed(build_fal, write_board, fal_env):
    """A request an older grokreel journaled under the cache key (before request keys) is
    found, moved to its request key and resumed: an upgrade mid-chain pays nothing twice."""
    board = write_board(CHAIN)
    assert build_fal(board, ["a"]).ok
    key = {s.job.id: s for s in open_project(board, backend="fal").status()}["c"].key
    assert key is not None
    source = build_fal(board, ["a"]).outcomes["a"].record["source_url"]
    body = {"prompt": "mist", "video_url": source, "duration": 2}
    answer = httpx.post(
        f"{fal_env.queue_url}/xai/grok-imagine-video/extend-video",
        json=body,
        headers={"Authorization": f"Key {fal_env.key}"},
    ).json()
    journal = Journal(board.parent / ".grokreel")
    journal.record(
        JournalEntry(
            key,
            "c",
            "xai/grok-imagine-video/extend-video",
            answer["request_id"],
            answer["status_url"],
            answer["response_url"],
            answer["cancel_url"],
            fal_env.queue_url,
        )
    )
    result = build_fal(board)
    assert result.ok and result.outcomes["c"].record["request_id"] == answer["request_id"]
    assert submitted(fal_env, "mist") == [answer["request_id"]]
    assert journal.entries() == []


def test_a_clip_off_the_media_hosts_is_not_passed_on(build_fal, write_board, fal_env):
    """A result naming a host this build would not download from sets no link going: the
    source fails (and stays journaled), the extend is never paid for."""
    fal_env.faults.video_host = "http://127.0.0.1:9"  # not a media host, and nothing listens
    board = write_board(CHAIN)
    result = build_fal(board, ["a", "c"])
    assert result.outcomes["a"].status == "failed"
    assert result.outcomes["c"].status == "skipped"
    assert submitted(fal_env, "mist") == []
