"""The CLI edge: every exception becomes a message; bugs go to a scrubbed crash log; gc is safe."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from grokreel.edge import EdgeGroup, interrupt_told, remember

SMALL = """
    defaults: {resolution: 480p, duration: 1}
    shots:
      a: {prompt: first}
"""


def _group(error: BaseException) -> click.Group:
    """A real edge group with one command that raises ``error`` (no grokreel code replaced)."""

    @click.group(cls=EdgeGroup)
    def group() -> None:
        """test group"""

    @group.command()
    @click.option("--cache-dir", type=click.Path(path_type=Path), callback=remember("cache_dir"))
    @click.option("--json", "as_json", is_flag=True, callback=remember("json"))
    def boom(cache_dir: Path | None, as_json: bool) -> None:
        raise error

    return group


def test_a_bug_is_one_line_and_a_scrubbed_log(tmp_path, monkeypatch):
    """An unexpected exception prints one line naming the log; the log has no FAL_KEY value."""
    monkeypatch.setenv("FAL_KEY", "sekrit-key-123")
    group = _group(ValueError("request failed with key sekrit-key-123"))
    result = CliRunner().invoke(group, ["boom", "--cache-dir", str(tmp_path)])
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1
    log = Path(re.search(r"details are in (\S+);", result.output)[1])
    assert log.parent == tmp_path / "crashes"
    text = log.read_text()
    assert "Traceback" in text and "ValueError" in text and "sekrit-key-123" not in text


def test_a_bug_with_json_is_an_error_document(tmp_path):
    """With --json an internal error is {"error": …} on stdout naming the log file."""
    result = CliRunner().invoke(_group(KeyError("x")), ["boom", "--json", "--cache-dir", tmp_path])
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "InternalError" and Path(error["file"]).is_file()


def test_debug_shows_the_traceback(tmp_path, monkeypatch):
    """GROKREEL_DEBUG=1 prints the (scrubbed) traceback as well."""
    monkeypatch.setenv("GROKREEL_DEBUG", "1")
    result = CliRunner().invoke(_group(RuntimeError("bad")), ["boom", "--cache-dir", tmp_path])
    assert "Traceback" in result.output and result.exit_code == 1


def test_interrupt_exits_130():
    """Ctrl-C anywhere in a command exits 130 with a note that finished work is kept."""
    result = CliRunner().invoke(_group(KeyboardInterrupt()), ["boom"])
    assert result.exit_code == 130 and "build again to resume" in result.output


def test_interrupt_told_by_the_command_is_not_said_twice():
    """When the command (the live view) already said what Ctrl-C kept, the edge adds no line."""

    @click.group(cls=EdgeGroup)
    def group() -> None:
        """test group"""

    @group.command()
    def build() -> None:
        click.echo("interrupted: 3 finished job(s) stay cached; run the same build again", err=True)
        interrupt_told()
        raise KeyboardInterrupt

    result = CliRunner().invoke(group, ["build"])
    assert result.exit_code == 130 and result.output.count("interrupted") == 1


def test_permission_error_names_the_path(tmp_path):
    """An OSError on a user's path is a message naming it, not an internal error."""
    error = PermissionError(13, "Permission denied", str(tmp_path / "x"))
    result = CliRunner().invoke(_group(error), ["boom"])
    assert result.exit_code == 1 and f"{tmp_path / 'x'}: permission denied" in result.output


def _built(cli, write_board, name: str, prompt: str) -> Path:
    board = write_board(SMALL.replace("first", prompt), name)
    assert cli("build", board).exit_code == 0
    board.with_suffix(".lock").unlink()  # only the storyboard itself protects its objects
    return board


def test_gc_protects_sibling_storyboards(cli, write_board):
    """`gc one.yaml` keeps what a storyboard beside it uses, and removes only true garbage."""
    one = _built(cli, write_board, "one.yaml", "first")
    two = _built(cli, write_board, "two.yaml", "second")
    assert "0 object(s)" in cli("gc", one, "--older-than", "0").output
    two.write_text(two.read_text().replace("second", "third"))
    listing = cli("gc", one, "--older-than", "0", "--remove").output
    assert "3 object(s)" in listing and "generate `a`" in listing and "cut `cut`" in listing
    assert "0 rendered" in cli("build", one).output


def test_gc_skips_a_broken_sibling_with_a_warning(cli, write_board):
    """A sibling that does not compile is named in a warning; gc still runs."""
    one = _built(cli, write_board, "one.yaml", "first")
    write_board("shots: [x]\n", "broken.yml")
    result = cli("gc", one, "--older-than", "0")
    assert result.exit_code == 0 and "broken.yml does not compile" in result.output


@pytest.mark.parametrize("args", [["gc"], ["gc", "/nonexistent.yaml"]])
def test_gc_usage_mistakes_are_usage_errors(cli, args):
    """gc without an existing file is click's usage error (exit 2)."""
    assert cli(*args).exit_code == 2
