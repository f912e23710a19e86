"""Shared fixtures: storyboards written to a temp folder with small real assets beside them."""

from __future__ import annotations

import asyncio
import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from grokreel.backends.animatic import AnimaticBackend
from grokreel.errors import Diagnostic, StoryboardError
from grokreel.plan import Plan, compile_file

SAMPLES = Path(__file__).resolve().parent.parent / "storyboards"


@pytest.fixture(autouse=True)
def _offline_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may pick up a real key or a shared cache from the developer's shell."""
    for name in ("FAL_KEY", "FAL_KEY_ID", "FAL_KEY_SECRET", "GROKREEL_CACHE_DIR"):
        monkeypatch.delenv(name, raising=False)


class CountingBackend(AnimaticBackend):
    """The real animatic backend, recording every render call and how many overlap."""

    def __init__(self, delay: float = 0.0) -> None:
        self.calls: list[str] = []
        self.running = self.peak = 0
        self.delay = delay
        self.gates: dict[str, asyncio.Event] = {}  # job id → its render waits for this event

    async def render(self, request, workdir, progress):
        self.calls.append(request.job_id)
        self.running += 1
        self.peak = max(self.peak, self.running)
        try:
            if request.job_id in self.gates:
                await self.gates[request.job_id].wait()
            await asyncio.sleep(self.delay)
            return await super().render(request, workdir, progress)
        finally:
            self.running -= 1


@pytest.fixture
def counting_backend(monkeypatch: pytest.MonkeyPatch) -> CountingBackend:
    """Every build in the test renders through one CountingBackend."""
    import grokreel.build

    backend = CountingBackend()
    monkeypatch.setattr(grokreel.build, "make_backend", lambda name, cache_dir, **_: backend)
    return backend


@pytest.fixture
def board_dir(tmp_path: Path) -> Path:
    """A folder holding the sample assets, where test storyboards are written."""
    shutil.copytree(SAMPLES / "assets", tmp_path / "assets")
    return tmp_path


@pytest.fixture
def write_board(board_dir: Path) -> Callable[..., Path]:
    """Write a storyboard from dedented YAML text; returns its path."""

    def write(text: str, name: str = "film.yaml") -> Path:
        path = board_dir / name
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return path

    return write


@pytest.fixture
def compile_board(write_board: Callable[..., Path]) -> Callable[[str], Plan]:
    def compile_text(text: str) -> Plan:
        return compile_file(write_board(text))

    return compile_text


@pytest.fixture
def board_errors(write_board: Callable[..., Path]) -> Callable[[str], list[Diagnostic]]:
    """Compile text that must fail; return its diagnostics."""

    def errors(text: str) -> list[Diagnostic]:
        with pytest.raises(StoryboardError) as info:
            compile_file(write_board(text))
        return info.value.diagnostics

    return errors


@pytest.fixture
def cli() -> Callable[..., Any]:
    """Run the `grokreel` command line in-process; exceptions escaping the edge fail the test."""
    from click.testing import CliRunner

    from grokreel.cli import main

    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)

    return run
