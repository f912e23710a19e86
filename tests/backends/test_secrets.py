"""FAL_KEY's value never lands in a file grokreel writes, a log line, an error or a repr."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from grokreel.backends.fal import FalBackend
from grokreel.cli import main
from grokreel.testing import FalTestServer

SECRET = f"fal-sk-{uuid.uuid4().hex}"
BOARD = """
    defaults: {resolution: 480p, duration: 1}
    assets: {knight: assets/knight.png}
    shots:
      opening: {prompt: fog over the hills}
      arrival: {image: knight, prompt: the knight arrives, duration: 2}
      onward: {kind: extend, video: arrival, prompt: onward, duration: 2}
    cut: [opening, arrival, onward]
    output: {resolution: 480p}
"""


@pytest.fixture
def secret(
    fal_env: FalTestServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> FalTestServer:
    """The server expects SECRET as the key, the user exported it, and every log is captured."""
    fal_env.key = SECRET
    monkeypatch.setenv("FAL_KEY", SECRET)
    caplog.set_level(logging.DEBUG)
    return fal_env


def build(board: Path, *args: str) -> Result:
    return CliRunner().invoke(
        main, ["build", str(board), "--backend", "fal", *args], catch_exceptions=False
    )


def assert_nowhere(result: Result, folder: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The key is in no output, no log record and no file under ``folder``."""
    assert SECRET not in result.output + (result.stderr or "")
    assert SECRET not in caplog.text
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert files
    leaked = [p for p in files if SECRET.encode() in p.read_bytes()]
    assert leaked == []


def test_a_full_build_writes_the_key_nowhere(secret, write_board, board_dir, caplog):
    """Uploads, submits, downloads, cut, cache, state and lock files: no key anywhere."""
    result = build(write_board(BOARD))
    assert result.exit_code == 0, result.output
    assert secret.count("upload") == 1 and len(secret.submissions) == 3
    assert_nowhere(result, board_dir, caplog)


def test_a_rejected_key_is_reported_without_it(secret, write_board, board_dir, caplog):
    """A 401 says the key was rejected, and does not print it."""
    secret.faults.reject_key = True
    result = build(write_board(BOARD), "-k")
    assert result.exit_code == 1 and "the key was rejected" in result.output + result.stderr
    assert_nowhere(result, board_dir, caplog)


def test_a_journaled_request_and_network_errors_hold_no_key(
    secret, write_board, board_dir, caplog, monkeypatch
):
    """A request left in the journal, and a host that refuses connections: still no key."""
    secret.faults.run_seconds = 5.0
    monkeypatch.setenv("GROKREEL_FAL_DEADLINE", "0.3")
    result = build(write_board(BOARD), "opening")
    assert result.exit_code == 1 and "stays journaled" in result.output + result.stderr
    assert list((board_dir / ".grokreel" / "journal").glob("*.json"))
    monkeypatch.setenv("GROKREEL_FAL_QUEUE_URL", "http://127.0.0.1:9")
    refused = build(write_board(BOARD), "opening")
    assert refused.exit_code == 1 and "could not connect" in refused.output + refused.stderr
    assert_nowhere(result, board_dir, caplog)
    assert_nowhere(refused, board_dir, caplog)


def test_reprs_hold_no_key(secret, tmp_path):
    """The backend and its HTTP edge describe themselves by host, never by key."""
    backend = FalBackend.from_env(tmp_path)
    shown = [repr(backend), repr(backend.http), repr(vars(backend.http)), repr(vars(backend))]
    assert not [text for text in shown if SECRET in text]
