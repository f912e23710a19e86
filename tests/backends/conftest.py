"""Fixtures for the fal backend: a fal-protocol server on loopback and an env pointing at it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import stamina

from grokreel import BuildResult, api, open_project
from grokreel.backends.base import RenderRequest
from grokreel.testing import FalTestServer

POLL = "0.02"  # seconds: the first poll interval in tests (queued polls back off to 10×)


@pytest.fixture(autouse=True)
def _no_backoff() -> Iterator[None]:
    """Retries happen at once in tests (stamina's test mode), with room for flaky servers."""
    with stamina.set_testing(True, attempts=20):
        yield


@pytest.fixture
def fal() -> Iterator[FalTestServer]:
    """A started fal test server, stopped after the test."""
    with FalTestServer(key="test-key-4d1f") as server:
        yield server


@pytest.fixture
def fal_env(fal: FalTestServer, monkeypatch: pytest.MonkeyPatch) -> FalTestServer:
    """The environment of a user whose FAL_KEY and fal hosts point at the test server."""
    for name, value in fal.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GROKREEL_FAL_POLL_INTERVAL", POLL)
    return fal


@pytest.fixture
def build_fal(fal_env: FalTestServer):
    """Build a storyboard on the fal backend, keeping going past failures; ``shots`` skips the
    cut (faster)."""

    def build(board: Path, shots: list[str] | None = None) -> BuildResult:
        return open_project(board, backend="fal").build(jobs=4, targets=shots, keep_going=True)

    return build


def make_text_request(prompt: str = "a quiet lake", shot: str = "lake") -> RenderRequest:
    """A text-to-video request as the executor would hand it to a backend."""
    data = api.normalize_input(
        "text-to-video", {"prompt": prompt, "duration": 1, "resolution": "480p"}
    )
    key = hashlib.sha256(prompt.encode()).hexdigest()
    return RenderRequest(
        shot, shot, "text-to-video", api.endpoint_id("text-to-video"), data, {}, key
    )


@pytest.fixture
def lake() -> RenderRequest:
    """A small text-to-video RenderRequest (1 s, 480p) for shot `lake`."""
    return make_text_request()
