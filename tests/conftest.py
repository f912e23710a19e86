"""Shared fixtures: storyboards written to a temp folder with small real assets beside them."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from grokreel.errors import Diagnostic, StoryboardError
from grokreel.plan import Plan, compile_file

SAMPLES = Path(__file__).resolve().parent.parent / "storyboards"


@pytest.fixture(autouse=True)
def _offline_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may pick up a real key or a shared cache from the developer's shell."""
    for name in ("FAL_KEY", "FAL_KEY_ID", "FAL_KEY_SECRET", "GROKREEL_CACHE_DIR"):
        monkeypatch.delenv(name, raising=False)


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
