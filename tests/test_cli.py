"""The command line: exit codes, JSON summaries, and messages without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from grokreel.cli import main

SMALL = """
    defaults: {resolution: 480p, duration: 1}
    shots:
      a: {prompt: first}
      b: {prompt: second}
"""


@pytest.fixture
def cli():
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(main, list(args), catch_exceptions=False)

    return run


def test_validate_ok_and_error(cli, write_board):
    """`validate` exits 0 on a good file and 1 with FILE:LINE:COL on a bad one."""
    good = write_board(SMALL, "good.yaml")
    assert cli("validate", str(good)).exit_code == 0
    bad = write_board("shots:\n  a: {prompt: x, duration: 99}\n", "bad.yaml")
    result = cli("validate", str(bad))
    assert result.exit_code == 1
    assert f"{bad}:2:" in result.output and "Traceback" not in result.output


def test_build_json_then_noop(cli, write_board):
    """`build --json` prints the stable summary; a rebuild reports every node cached."""
    path = write_board(SMALL)
    first = json.loads(cli("build", str(path), "--json").stdout)
    assert (first["rendered"], first["cached"], first["failed"]) == (5, 0, 0)
    node = first["nodes"][0]
    assert set(node) >= {"id", "kind", "endpoint", "status", "key", "output_sha256", "duration"}
    assert node["endpoint"] == "xai/grok-imagine-video/text-to-video"
    second = json.loads(cli("build", str(path), "--json").stdout)
    assert (second["rendered"], second["cached"]) == (0, 5)
    assert second["output"] == first["output"] == str(path.with_suffix(".mp4"))


def test_plan_json(cli, write_board):
    """`plan --json` lists nodes with status and reasons, and renders nothing."""
    path = write_board(SMALL)
    data = json.loads(cli("plan", str(path), "--json").stdout)
    assert [(n["id"], n["status"]) for n in data["nodes"]] == [
        ("a", "new"),
        ("b", "new"),
        ("cut:1:a", "new"),
        ("cut:2:b", "new"),
        ("cut", "new"),
    ]
    assert all(
        set(n) >= {"id", "kind", "endpoint", "status", "reasons", "key"} for n in data["nodes"]
    )
    assert not (path.parent / ".grokreel" / "objects").exists()


def test_output_and_cache_dir_flags(cli, write_board, tmp_path):
    """`-o` and `--cache-dir` put the film and the cache where asked."""
    path = write_board(SMALL)
    out = tmp_path / "films" / "x.mp4"
    result = cli("build", str(path), "-o", str(out), "--cache-dir", str(tmp_path / "c"), "-j", "1")
    assert result.exit_code == 0 and out.is_file()
    assert (tmp_path / "c" / "actions").is_dir()


def test_graph_formats(cli, write_board):
    """`graph` prints DOT and Mermaid with every edge."""
    path = write_board(SMALL)
    dot = cli("graph", str(path)).stdout
    assert '"a" -> "cut:1:a";' in dot and '"cut:1:a" -> "cut";' in dot
    assert dot.startswith("digraph")
    mermaid = cli("graph", str(path), "--format", "mermaid").stdout
    assert mermaid.startswith("flowchart LR") and mermaid.count("-->") == 4


def test_failed_build_exits_one_with_summary(cli, write_board, board_dir):
    """A failing shot makes `build` exit 1 with one clear line per failure."""
    # PNG by its magic number (passes validate), undecodable (fails at render)
    (board_dir / "assets" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage")
    path = write_board("""
        defaults: {resolution: 480p, duration: 1}
        shots:
          ok: {prompt: fine}
          bad: {image: assets/broken.png, prompt: x}
    """)
    result = cli("build", str(path))
    assert result.exit_code == 1
    assert "1 job(s) failed" in result.output and "bad: shot `bad`" in result.output


def test_console_script_reports_without_traceback(write_board):
    """The installed entry point prints a located error and exits 1 on a user mistake."""
    path = write_board("shots: [a, b]\n")
    proc = subprocess.run(
        [sys.executable, "-m", "grokreel", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert f"{path}:1:" in proc.stderr and "Traceback" not in proc.stderr
