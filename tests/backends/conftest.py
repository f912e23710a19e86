"""Fixtures for the fal backend: a fal-protocol server on loopback and an env pointing at it."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
import stamina

from grokreel import BuildResult, api, open_project
from grokreel.backends.base import RenderRequest
from grokreel.backends.fal import FalBackend
from grokreel.cache.journal import JournalEntry
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
def text_request() -> Callable[..., RenderRequest]:
    """``text_request(prompt, shot)``: a small text-to-video RenderRequest of its own."""
    return make_text_request


@pytest.fixture
def lake() -> RenderRequest:
    """A small text-to-video RenderRequest (1 s, 480p) for shot `lake`."""
    return make_text_request()


async def _until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.01)


@pytest.fixture
def until() -> Callable[..., Awaitable[None]]:
    """``await until(condition, seconds=10)``: wait, boundedly, for ``condition()``."""
    return _until


@pytest.fixture
async def backend(fal_env: FalTestServer, tmp_path: Path) -> AsyncIterator[FalBackend]:
    """A fal backend from the environment, its cache in ``tmp_path``."""
    made = FalBackend.from_env(tmp_path)
    yield made
    await made.aclose()


@pytest.fixture
def interrupt() -> Callable[..., Awaitable[None]]:
    """``await interrupt(backend, request, workdir, said, when)``: start a render and cancel it
    (as Ctrl-C does) once a progress line starts with ``when``."""

    async def run(
        backend: FalBackend, request: RenderRequest, workdir: Path, said: list[str], when: str
    ) -> None:
        task = asyncio.create_task(backend.render(request, workdir, said.append))
        await _until(lambda: any(s.startswith(when) for s in said))
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    return run


@pytest.fixture
def entry_for() -> Callable[..., JournalEntry]:
    """``entry_for(fal, key, request_id, queue_url=None)``: a journal entry for ``request_id``
    as if an earlier build had submitted it."""

    def make(
        fal: FalTestServer, key: str, request_id: str, queue_url: str | None = None
    ) -> JournalEntry:
        base = f"{fal.url}/xai/grok-imagine-video/requests/{request_id}"
        return JournalEntry(
            key,
            "lake",
            "xai/grok-imagine-video/text-to-video",
            request_id,
            f"{base}/status",
            base,
            f"{base}/cancel",
            queue_url or fal.queue_url,
        )

    return make
