"""The command line: exit codes, JSON summaries, and messages without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

SMALL = """
    defaults: {resolution: 480p, duration: 1}
    shots:
      a: {prompt: first}
      b: {prompt: second}
"""


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


def _board(write_board, name: str = "film.yaml"):
    return write_board(SMALL, name)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["export", "{board}", "--otio", "/nonexistent/x.otio"], "/nonexistent does not exist"),
        (["export", "{board}", "--otio", "{dir}/x.edl"], "use one of .otio"),
        (["build", "{board}", "-o", "{dir}/assets"], "is a folder"),
        (["build", "{board}", "--cache-dir", "{board}"], "is a file; give --cache-dir a folder"),
    ],
)
def test_path_mistakes_are_messages(cli, write_board, args, words):
    """A bad path given to export or build is a message naming it, exit 1, no traceback."""
    board = _board(write_board)
    args = [a.format(board=board, dir=board.parent) for a in args]
    result = cli(*args)
    assert result.exit_code == 1, result.output
    assert words in result.output and "Traceback" not in result.output


def test_json_error_is_on_stdout_with_locations(cli, write_board):
    """`--json` on a broken storyboard prints {"error": …} with every located diagnostic."""
    bad = write_board("shots:\n  a: {prompt: x, take: 0}\n  b: {prompt: y, take: -1}\n")
    for command in ("plan", "build"):
        result = cli(command, bad, "--json")
        error = json.loads(result.stdout)["error"]
        assert result.exit_code == 1
        assert (error["file"], error["line"]) == (str(bad), 2) and error["column"] >= 1
        assert [d["line"] for d in error["diagnostics"]] == [2, 3]
        assert error["type"] == "StoryboardError" and "shots.a.take" in error["message"]


def test_json_error_for_a_plan_error(cli, write_board):
    """A non-storyboard error (an unknown shot) is JSON too, with its message and no location."""
    board = _board(write_board)
    error = json.loads(cli("build", board, "nosuch", "--json").stdout)["error"]
    assert "no shot named nosuch" in error["message"] and error["line"] is None


def test_summaries_carry_version_and_the_same_cost_shape(cli, write_board):
    """`build` and `plan` JSON both have "version" and cost as {"estimated", "actual"}."""
    board = _board(write_board)
    plan = json.loads(cli("plan", board, "--json").stdout)
    build = json.loads(cli("build", board, "--json").stdout)
    assert plan["version"] == build["version"] == 2
    assert set(plan["cost"]) == set(build["cost"]) == {"estimated", "actual"}
    assert plan["cost"]["estimated"] == plan["total_cost"] == 0.1
    assert set(plan["nodes"][0]["cost"]) == set(build["nodes"][0]["cost"])


def test_dry_run_refuses_like_the_real_build(cli, write_board):
    """`build -n --max-cost` over the estimate shows the plan, then exits 1 saying why."""
    board = _board(write_board)
    dry = cli("build", board, "-n", "--backend", "fal", "--max-cost", "0.01")
    assert dry.exit_code == 1 and "5 of 5 node(s) to run" in dry.stdout
    assert "dry run: the build would refuse" in dry.output and "--max-cost" in dry.output
    data = json.loads(
        cli("build", board, "-n", "--backend", "fal", "--max-cost", "1", "--json").stdout
    )
    assert "error" not in data and data["cost"]["estimated"] == 0.1


def test_dry_run_json_refusal_is_one_document(cli, write_board):
    """A refused dry run with --json prints one JSON document holding the plan and the error."""
    board = _board(write_board)
    result = cli("build", board, "-n", "--backend", "fal", "--locked", "--json")
    data = json.loads(result.stdout)
    assert result.exit_code == 1 and "--locked" in data["error"]["message"] and data["nodes"]


def test_otio_media_are_exported_beside_the_timeline(cli, write_board, tmp_path):
    """The timeline references copies of the clips by relative path, with real names."""
    board = _board(write_board)
    assert cli("build", board).exit_code == 0
    out = tmp_path / "edit"
    out.mkdir()
    result = cli("export", board, "--otio", out / "cut.otio")
    assert result.exit_code == 0, result.output
    urls = [c.media_reference.target_url for c in _clips(out / "cut.otio")]
    assert urls == ["cut_media/a.mp4", "cut_media/b.mp4"]
    assert all((out / u).read_bytes()[4:8] == b"ftyp" for u in urls)
    other = tmp_path / "elsewhere"
    assert cli("export", board, "--otio", out / "b.otio", "--media-dir", other).exit_code == 0
    assert [c.media_reference.target_url for c in _clips(out / "b.otio")][0] == "../elsewhere/a.mp4"


def _clips(path):
    import opentimelineio as otio

    return otio.adapters.read_from_file(str(path)).find_clips()
