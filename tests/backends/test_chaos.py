"""Chaos: real `grokreel build` processes killed, interrupted, raced and starved of answers
against the shipped fal-protocol server. Whatever happens, each paid request is submitted once
across all the runs, the film completes, and a further build renders nothing.

`pytest -m long tests/backends/test_chaos.py` runs the long variant (many random kill moments).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from grokreel import open_project
from grokreel.media.probe import probe
from grokreel.testing import FalTestServer

# Three paid jobs: a text shot, an image shot (an upload) and an extend chained on the first.
BOARD = """
    defaults: {{resolution: 480p, duration: 1}}
    assets: {{knight: assets/knight.png}}
    shots:
      a: {{prompt: "{tag} lake at dawn", duration: 2}}
      b: {{image: knight, prompt: "{tag} knight waits"}}
      c: {{kind: extend, video: a, prompt: "{tag} mist rises", duration: 2}}
    cut: [a, b, c]
    output: {{resolution: 480p}}
"""
PAID = 3
FILM_SECONDS = 2 + 1 + 4


@pytest.fixture(scope="module")
def server() -> FalTestServer:
    """One fal test server for the module; each scenario tags its prompts to count its own."""
    with FalTestServer(key="chaos-key") as fal:
        yield fal
        billed = Counter(
            json.dumps(s.input, sort_keys=True)
            for s in fal.submissions
            if not fal.queue.jobs[s.request_id].cancelled
        )
        print(  # the figures for the record: `pytest -s tests/backends/test_chaos.py`
            f"\nchaos: {STARTED[0]} build processes, {len(fal.submissions)} submissions, "
            f"{sum(billed.values())} billed for {len(billed)} distinct inputs, "
            f"{sum(n - 1 for n in billed.values())} duplicates"
        )


@pytest.fixture
def fal(server: FalTestServer) -> FalTestServer:
    """The shared server with a clean set of faults: jobs queue and run briefly, one at a time
    beyond two (fal's default), so kills land in every phase."""
    faults = server.faults
    faults.queue_seconds, faults.run_seconds, faults.concurrency = 0.15, 0.3, 2
    faults.flaky, faults.bursts, faults.download_rate = 0.0, {}, 200_000
    faults.stream = "refuse"  # the kill points below count status polls (the stream's fallback)
    server.forget_triggers()
    return server


@pytest.fixture
def scenario(write_board, request):
    """A storyboard whose prompts carry this test's tag, and its tag."""
    tag = "t" + hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:8]
    return write_board(BOARD.format(tag=tag)), tag


STARTED = [0]  # build processes started by this module


def start(board: Path, fal: FalTestServer, *extra: str) -> subprocess.Popen[str]:
    STARTED[0] += 1
    env = os.environ | fal.env() | {"GROKREEL_FAL_POLL_INTERVAL": "0.02"}
    return subprocess.Popen(
        [sys.executable, "-m", "grokreel", "build", str(board), "--backend", "fal", "-j", "4"]
        + list(extra),
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def finish(process: subprocess.Popen[str], seconds: float = 90) -> str:
    output, _ = process.communicate(timeout=seconds)
    return output


def paid_per_input(fal: FalTestServer, tag: str) -> Counter[str]:
    """Submissions fal would bill for this scenario, by prompt (a cancelled queued job is not)."""
    return Counter(
        s.input["prompt"]
        for s in list(fal.submissions)
        if tag in s.input["prompt"] and not fal.queue.jobs[s.request_id].cancelled
    )


def assert_paid_once_and_complete(fal: FalTestServer, board: Path, tag: str) -> None:
    """Each paid job billed exactly once, the film whole, and nothing left to render."""
    paid = paid_per_input(fal, tag)
    assert len(paid) == PAID and set(paid.values()) == {1}, paid
    assert probe(board.with_suffix(".mp4")).duration == pytest.approx(FILM_SECONDS, abs=0.1)
    todo = [s.job.id for s in open_project(board, backend="fal").status() if s.status != "cached"]
    assert todo == []


def resume(board: Path, fal: FalTestServer) -> str:
    again = start(board, fal)
    output = finish(again)
    assert again.returncode == 0, output
    return output


# -- SIGKILL at exact moments ---------------------------------------------------------------------
KILL_POINTS = [
    ("upload", 1),  # the image shot's input on its way up
    ("status", 1),  # just after the first submit was journaled
    ("status", 3),  # queued
    ("status", 8),  # running
    ("result", 1),  # a finished job's result in flight
    ("result", 2),
    ("download", 1),  # a paid clip on its way down
    ("download", 2),
    ("status", 14),  # the chained extend queued or running
    ("result", 3),
    ("download", 3),  # the last clip: the kill lands before the cut
]  # no call comes between a clip's download and its extend's submit: its URL is passed unasked


def at(fal: FalTestServer, action) -> Callable[[], None]:
    """``action`` once every submit answered so far had time to be journaled."""

    def run() -> None:
        fal.submits_settled()
        action()

    return run


@pytest.mark.parametrize(("phase", "nth"), KILL_POINTS, ids=[f"{p}{n}" for p, n in KILL_POINTS])
def test_sigkill_at_a_moment_then_resume_pays_once(fal, scenario, phase, nth):
    """SIGKILL while the server handles the nth call of a phase; the next build resumes."""
    board, tag = scenario
    first = start(board, fal)
    fal.on(phase, nth, at(fal, first.kill))
    output = finish(first)
    fal.forget_triggers()
    assert first.returncode == -signal.SIGKILL, output  # the kill point was reached
    resume(board, fal)
    assert_paid_once_and_complete(fal, board, tag)


# -- SIGINT / SIGTERM -----------------------------------------------------------------------------
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize(("phase", "nth"), [("status", 2), ("status", 8), ("download", 1)])
def test_interrupt_then_resume_pays_once(fal, scenario, sig, phase, nth):
    """Ctrl-C or SIGTERM in the queue, while running, or mid-download: exit 130, queued
    requests cancelled unbilled, the rest journaled; the next build completes paying once."""
    board, tag = scenario
    first = start(board, fal)
    fal.on(phase, nth, at(fal, lambda: first.send_signal(sig)))
    output = finish(first)
    fal.forget_triggers()
    assert first.returncode in (0, 130), output
    assert "Traceback" not in output
    resume(board, fal)
    assert_paid_once_and_complete(fal, board, tag)


# -- flaky answers (in-process: real HTTP, retries without waiting, as stamina's test mode) --------
FLAKY = [("429", "503", "429+id", "503+id"), ("reset",)]


@pytest.fixture
def flaky(fal: FalTestServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[FalTestServer]:
    """30 % of status, result and download calls fail; the environment points at the server."""
    for name, value in fal.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GROKREEL_FAL_POLL_INTERVAL", "0.02")
    fal.faults.flaky, fal.faults.flaky_phases = 0.3, ("status", "result", "download")
    yield fal
    fal.faults.flaky = 0.0


@pytest.mark.parametrize("kinds", FLAKY, ids=["429-503-with-and-without-id", "resets"])
def test_thirty_percent_failed_calls_still_pay_once(flaky, scenario, kinds):
    """30 % of status, result and download calls fail: the build still succeeds, once paid."""
    board, tag = scenario
    flaky.faults.flaky_kinds = kinds
    result = open_project(board, backend="fal").build(jobs=4)
    assert result.ok, [o.error for o in result.outcomes.values() if o.error]
    assert_paid_once_and_complete(flaky, board, tag)


def test_the_sample_film_with_flaky_calls_pays_once_per_job(flaky, tmp_path):
    """storyboards/knight.yaml with 30 % of status/result/download calls failing (429/503 with
    and without a request id, resets): one submission per paid job."""
    samples = Path(__file__).resolve().parents[2] / "storyboards"
    shutil.copytree(samples, tmp_path / "s", ignore=shutil.ignore_patterns("*.mp4", "*.lock"))
    board = tmp_path / "s" / "knight.yaml"
    flaky.faults.queue_seconds = flaky.faults.run_seconds = 0.0
    flaky.faults.flaky_kinds = ("429", "503", "429+id", "503+id", "reset")
    before = len(flaky.submissions)
    result = open_project(board, backend="fal").build(jobs=4)
    assert result.ok, [o.error for o in result.outcomes.values() if o.error]
    inputs = [json.dumps(s.input, sort_keys=True) for s in flaky.submissions[before:]]
    paid_jobs = [s for s in open_project(board, backend="fal").status() if s.job.endpoint]
    assert len(inputs) == len(set(inputs)) == len(paid_jobs)
    assert flaky.count("status") + flaky.count("result") > len(inputs)  # faults were answered


# -- builds at once -------------------------------------------------------------------------------
@pytest.mark.parametrize("builds", [2, 3])
def test_builds_started_together_pay_once(fal, scenario, builds):
    """Two or three builds at the same moment on one cache: each paid job submitted once, all
    exit 0, and a further build renders nothing."""
    board, tag = scenario
    processes = [start(board, fal) for _ in range(builds)]
    outputs = [finish(p) for p in processes]
    assert [p.returncode for p in processes] == [0] * builds, outputs
    assert_paid_once_and_complete(fal, board, tag)
    assert sum(o.count("rendered by another build") for o in outputs) >= 1


def test_a_lease_holder_killed_mid_render_is_resumed_by_the_waiter(fal, scenario):
    """Two builds at once; the one holding the leases is killed while its jobs run. The waiting
    build takes the leases over and resumes the journaled requests: nothing paid twice."""
    board, tag = scenario
    first = start(board, fal)
    fal.on("status", 3, at(fal, first.kill))
    time.sleep(0.2)
    second = start(board, fal)
    finish(first)
    fal.forget_triggers()
    output = finish(second)
    assert second.returncode == 0, output
    assert_paid_once_and_complete(fal, board, tag)


# -- the long variant: random moments -------------------------------------------------------------
@pytest.mark.long
@pytest.mark.parametrize("seed", range(30))
def test_sigkill_at_random_moments(fal, scenario, seed):
    """SIGKILL at a random moment of a build, up to three times, then a resume."""
    board, tag = scenario
    rng = random.Random(seed)
    for _ in range(rng.randint(1, 3)):
        build = start(board, fal)
        time.sleep(rng.uniform(0.3, 3.0))
        build.kill()
        finish(build)
    resume(board, fal)
    assert_paid_once_and_complete(fal, board, tag)
