"""Kill a paid build midway (SIGKILL, or Ctrl-C), build again: no job is paid for twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from grokreel.cache.journal import Journal
from grokreel.media.probe import probe
from grokreel.testing import FalTestServer

BOARD = """
    defaults: {resolution: 480p, duration: 1}
    shots:
      one: {prompt: first light}
      two: {prompt: second light}
      three: {prompt: third light}
    cut: [one, two, three]
    output: {resolution: 480p}
"""


def grokreel_build(board: Path, fal: FalTestServer) -> subprocess.Popen[str]:
    env = os.environ | fal.env() | {"GROKREEL_FAL_POLL_INTERVAL": "0.02"}
    return subprocess.Popen(
        [sys.executable, "-m", "grokreel", "build", str(board), "-j", "3", "--backend", "fal"],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def wait_for(condition, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


@pytest.fixture
def midway(fal, write_board, board_dir):
    """Start `grokreel build` of three shots on one fal runner; return once one job runs and
    two wait in the queue, every request id journaled. Yields (process, board, journal)."""
    fal.faults.concurrency, fal.faults.run_seconds = 1, 1.0
    board = write_board(BOARD)
    journal = Journal(board_dir / ".grokreel")
    process = grokreel_build(board, fal)
    try:
        wait_for(
            lambda: (
                len(journal.entries()) == 3
                and fal.queue.counts() == {"IN_PROGRESS": 1, "IN_QUEUE": 2}
            )
        )
        yield process, board, journal
    finally:
        process.kill()
        process.communicate(timeout=30)


def rebuild(board: Path, fal: FalTestServer) -> str:
    """Build again to the end; its output."""
    again = grokreel_build(board, fal)
    output, _ = again.communicate(timeout=60)
    assert again.returncode == 0, output
    assert probe(board.with_suffix(".mp4")).duration == pytest.approx(3, abs=0.1)
    return output


def billed(fal: FalTestServer) -> Counter[str]:
    """Prompts of the submissions fal would bill (cancelled while queued: not billed)."""
    return Counter(
        s.input["prompt"] for s in fal.submissions if not fal.queue.jobs[s.request_id].cancelled
    )


def test_sigkill_while_queued_and_running_then_rebuild_pays_once(fal, midway):
    """SIGKILL with one job running and two queued; the rerun resumes all three (no new
    submission), and the film completes."""
    first, board, journal = midway
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=10)
    assert first.returncode == -signal.SIGKILL and len(fal.submissions) == 3
    output = rebuild(board, fal)
    assert billed(fal) == {"first light": 1, "second light": 1, "third light": 1}
    assert len(fal.submissions) == 3
    assert output.count("resuming") == 3 and journal.entries() == []


def test_ctrl_c_cancels_the_queue_keeps_the_running_job(fal, midway):
    """Ctrl-C exits 130, cancels the two queued requests (unbilled), keeps the running one
    journaled; the rerun resumes it and pays once for each shot."""
    first, board, journal = midway
    fal.faults.cancel_settle = None  # a cancel that races the start lets the job run to the end
    first.send_signal(signal.SIGINT)
    output, _ = first.communicate(timeout=30)
    assert first.returncode == 130, output
    assert output.count("cancelled queued request") == 2 and "stays journaled" in output
    assert sum(job.cancelled for job in fal.queue.jobs.values()) == 2
    assert len(journal.entries()) == 1
    assert rebuild(board, fal).count("resuming") == 1
    assert billed(fal) == {"first light": 1, "second light": 1, "third light": 1}
    assert journal.entries() == []
