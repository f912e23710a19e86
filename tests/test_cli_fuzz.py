"""Generated command lines: whatever the arguments, an exit status and a message, never a traceback.

The default run is short; ``HYPOTHESIS_PROFILE=nightly`` runs many more examples.
"""

from __future__ import annotations

import os
import shutil
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from grokreel.cli import main  # noqa: E402

settings.register_profile(
    "cli-default", max_examples=30, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.register_profile(
    "nightly", max_examples=600, deadline=None, suppress_health_check=list(HealthCheck)
)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "cli-default")

SAMPLES = Path(__file__).resolve().parent.parent / "storyboards"
BOARD = """
    defaults: {resolution: 480p, duration: 1}
    shots:
      a: {prompt: first}
      b: {prompt: second, caption: hi}
"""
NUMBERS = [
    "1",
    "2",
    "0",
    "-1",
    "64",
    "65",
    "abc",
    "1e309",
    "nan",
    "",
    "0.5",
    "99999999999999999999",
]
PATHS = ["{board}", "{dir}", "{missing}", "{lock}", "{dir}/assets/knight.png", "{dir}/out/f.mp4"]
OPTIONS = {
    "validate": {},
    "graph": {"--format": ["dot", "mermaid", "svg", ""]},
    "plan": {"--json": None, "--backend": ["animatic", "fal", "x"], "--cache-dir": PATHS},
    "why": {"--backend": ["animatic", "fal"], "--cache-dir": PATHS},
    "build": {
        "-j": NUMBERS,
        "-o": PATHS,
        "-n": None,
        "-k": None,
        "--force": ["a", "b", "zz", ""],
        "--locked": None,
        "--max-cost": NUMBERS,
        "--json": None,
        "--backend": ["animatic", "fal"],
        "--cache-dir": PATHS,
    },
    "gc": {"--older-than": NUMBERS, "--cache-dir": PATHS},
    "export": {"--otio": [*PATHS, "{dir}/x.edl", "{dir}/t.otio"], "--media-dir": PATHS},
}
POSITIONAL = [*PATHS, "a", "b", "nope", "--", "-x", "--bogus"]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A small built film on the animatic backend, and the path names the strategies use."""
    folder = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(SAMPLES / "assets", folder / "assets")
    board = folder / "film.yaml"
    board.write_text(textwrap.dedent(BOARD).lstrip())
    assert CliRunner().invoke(main, ["build", str(board)]).exit_code == 0
    names = {"board": board, "dir": folder, "missing": folder / "missing.yaml"}
    return {k: str(v) for k, v in names.items()} | {"lock": str(board.with_suffix(".lock"))}


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    """A command, its options with values in random order, and some positional arguments."""
    command = draw(st.sampled_from(sorted(OPTIONS)))
    pool = OPTIONS[command]
    chosen = draw(st.lists(st.sampled_from(sorted(pool)), max_size=4)) if pool else []
    words: list[list[str]] = []
    for option in chosen:
        values = pool[option]
        words.append([option] if values is None else [option, draw(st.sampled_from(values))])
    first = draw(st.sampled_from(["{board}"] * len(PATHS) + PATHS))
    extra = draw(st.lists(st.sampled_from(POSITIONAL), max_size=1))
    words += [[first]] + [[p] for p in extra]
    words = draw(st.permutations(words))
    return [command, *(w for group in words for w in group)]


@settings(settings.get_profile(PROFILE))
@given(line=command_lines())
def test_any_command_line_ends_cleanly(project, line):
    """Exit 0, 1, 2 or 130 with no traceback, within 5 s, for any generated command line."""
    args = [a.format(**project) for a in line]
    start = time.monotonic()
    result = CliRunner().invoke(main, args)
    elapsed = time.monotonic() - start
    assert result.exit_code in (0, 1, 2, 130), (args, result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), args
    assert "Traceback" not in result.output and "internal error" not in result.output, args
    assert elapsed < 5, (args, elapsed)
