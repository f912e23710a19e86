"""One payment per job across machines, against moto and the fal-protocol test server: two
cache folders share one bucket, in turn and at the same moment, through a remote that fails a
fifth of its calls, after a machine died holding a claim."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from grokreel import open_project
from grokreel.cache.store import sha256_file
from grokreel.testing import FalTestServer
from grokreel.testing.s3 import FaultyProxy, MotoS3
from tests.cache.conftest import SECRET

BOARD = """
defaults: {resolution: 480p, duration: 1}
assets: {knight: assets/knight.png}
shots:
  a: {prompt: "lake at dawn", duration: 2}
  b: {image: knight, prompt: "knight waits"}
  c: {kind: extend, video: a, prompt: "mist rises", duration: 2}
cut: [a, b, c]
"""
PAID = 3


@pytest.fixture
def fal() -> Iterator[FalTestServer]:
    """A fal test server whose jobs queue and run briefly, so two builds overlap."""
    with FalTestServer(key="claims-key-77aa") as server:
        server.faults.queue_seconds, server.faults.run_seconds = 0.2, 0.3
        yield server


@pytest.fixture
def board(write_board: Callable[..., Path]) -> Path:
    return write_board(BOARD)


def per_input(fal: FalTestServer) -> Counter[str]:
    return Counter(s.input["prompt"] for s in list(fal.submissions))


def start(board: Path, fal: FalTestServer, cache: Path, remote: str, *extra: str):
    """A `grokreel build` process: one machine, with its own cache folder."""
    env = os.environ | fal.env() | {"GROKREEL_FAL_POLL_INTERVAL": "0.02"}
    env |= {"GROKREEL_CACHE_DIR": str(cache), "GROKREEL_REMOTE": remote}
    argv = [sys.executable, "-m", "grokreel", "build", str(board), "--backend", "fal", "-j", "4"]
    return subprocess.Popen(
        argv + ["-o", str(cache.with_suffix(".mp4")), *extra],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def finish(process: subprocess.Popen[str]) -> str:
    output, _ = process.communicate(timeout=180)
    assert process.returncode == 0, output
    return output


def test_in_turn_the_second_machine_pays_nothing(
    board: Path, fal: FalTestServer, s3_env: str, tmp_path: Path
) -> None:
    """Built on machine a, then on b: b submits nothing and makes the byte-identical film."""
    finish(start(board, fal, tmp_path / "a", s3_env))
    assert len(fal.submissions) == PAID
    output = finish(start(board, fal, tmp_path / "b", s3_env))
    assert len(fal.submissions) == PAID, output
    assert sha256_file(tmp_path / "a.mp4") == sha256_file(tmp_path / "b.mp4")


def test_at_once_each_job_is_paid_once(
    board: Path, fal: FalTestServer, s3_env: str, tmp_path: Path
) -> None:
    """Two machines started together: one submission per paid job in total, one film."""
    runs = [start(board, fal, tmp_path / name, s3_env) for name in "ab"]
    outputs = [finish(run) for run in runs]
    assert per_input(fal) == Counter({p: 1 for p in per_input(fal)}), outputs
    assert len(per_input(fal)) == PAID
    assert sha256_file(tmp_path / "a.mp4") == sha256_file(tmp_path / "b.mp4")


def test_a_flaky_remote_costs_nothing_twice(
    board: Path, fal: FalTestServer, s3_env: str, faulty: FaultyProxy, tmp_path: Path
) -> None:
    """With a fifth of S3 calls failing (500, 503, dropped before or after), three machines
    at once still succeed, and each paid job is submitted once."""
    runs = [start(board, fal, tmp_path / name, s3_env) for name in "abc"]
    outputs = [finish(run) for run in runs]
    assert sum(faulty.faults.values()) > 0
    assert set(per_input(fal).values()) == {1} and len(per_input(fal)) == PAID, outputs


def test_a_dead_machines_empty_claim_expires(
    board: Path, fal: FalTestServer, s3_env: str, moto: MotoS3, bucket: str, tmp_path: Path
) -> None:
    """A claim with no request id, left by a killed machine, is taken over after its time."""
    project = open_project(board, backend="fal", cache_dir=tmp_path / "probe", remote=s3_env)
    keys = [s.key for s in project.status() if s.key and s.job.endpoint]
    dead = {"owner": "killed-host-1-0", "time": time.time() - 3600, "entry": None}
    for key in keys:
        moto.put(bucket, f"team/journal/{key}.json", json.dumps(dead).encode())
    finish(start(board, fal, tmp_path / "a", s3_env))
    assert len(fal.submissions) == PAID
    assert moto.keys(bucket, "team/journal/") == sorted(moto.keys(bucket, "team/journal/done/"))


def test_a_claim_naming_a_request_is_followed_not_paid(
    board: Path,
    fal: FalTestServer,
    s3_env: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A machine killed after its first submit left that request id in its claim: another
    machine polls that same request instead of submitting (its other claims, still without a
    request, expire: 2 s here)."""
    monkeypatch.setenv("GROKREEL_CLAIM_TTL", "2")
    first = start(board, fal, tmp_path / "a", s3_env)
    deadline = time.monotonic() + 60
    waiting = ("status", "stream")  # a status poll or stream: the first id is shared by now
    while not any(fal.arrivals[p] for p in waiting) and time.monotonic() < deadline:
        time.sleep(0.01)
    fal.submits_settled()  # never kill inside the one window no client can close
    first.kill()
    first.wait()
    paid = len(fal.submissions)
    finish(start(board, fal, tmp_path / "b", s3_env))
    assert paid >= 1 and set(per_input(fal).values()) == {1}
    assert len(per_input(fal)) == PAID


def test_no_credential_is_written_or_said(
    board: Path, fal: FalTestServer, s3_env: str, tmp_path: Path, moto: MotoS3, bucket: str
) -> None:
    """The AWS secret is in no cache file, lock file, film folder file, bucket object or
    message, even when the remote is unreachable."""
    said = finish(start(board, fal, tmp_path / "a", s3_env))
    env = os.environ | {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "GROKREEL_CACHE_DIR": "x"}
    failed = subprocess.run(
        [sys.executable, "-m", "grokreel", "plan", str(board), "--remote", s3_env],
        env=env,
        capture_output=True,
        text=True,
    )
    assert failed.returncode == 1 and "cannot be reached" in failed.stderr
    files = [p for p in [*tmp_path.rglob("*"), *board.parent.rglob("*")] if p.is_file()]
    objects = [moto.get(bucket, k) for k in moto.keys(bucket)]
    for text in [said, failed.stdout, failed.stderr]:
        assert SECRET not in text
    for data in [*(p.read_bytes() for p in files), *objects]:
        assert SECRET.encode() not in data


def test_an_unreachable_remote_fails_before_paying(
    board: Path, fal: FalTestServer, s3_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No submission when the remote cannot be reached; --no-remote builds offline."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    run = start(board, fal, tmp_path / "a", s3_env)
    output, _ = run.communicate(timeout=120)
    assert run.returncode == 1 and "--no-remote" in output and not fal.submissions
    finish(start(board, fal, tmp_path / "a", s3_env, "--no-remote"))
    assert len(fal.submissions) == PAID
