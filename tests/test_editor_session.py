"""The editor session of docs/tools/editor_session.py: yaml-language-server, given the storyboard
schema by the storyboard's first line, completes shot keys and enum values and marks mistakes.

The server is not a dependency: the live test runs when one is installed (``GROKREEL_YAML_LS`` set
to the folder of ``npm install --prefix <dir> yaml-language-server``, or a ``node_modules`` in the
repository) and is skipped otherwise; CI installs no npm packages.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "docs/tools/editor_session.py"


@pytest.fixture(scope="module")
def session_tool():
    spec = importlib.util.spec_from_file_location("editor_session", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def test_marks_become_positions(session_tool):
    """Each ``⟨x⟩`` is removed from the text and becomes a 0-based (line, column)."""
    text, spots = session_tool.marked("a:\n  b: ⟨v⟩\n  ⟨k⟩\n")
    assert text == "a:\n  b: \n  \n"
    assert spots == {"v": (1, 5), "k": (2, 2)}


def test_the_transcript_says_what_was_asked_and_answered(session_tool):
    """A session (here a made-up one) becomes the Markdown page: positions counted from 1."""
    text, spots = session_tool.marked(session_tool.STORYBOARD)
    Completion, Diagnostic = session_tool.Completion, session_tool.Diagnostic
    completions = [
        Completion(mark, session_tool.ASKS[mark], *spots[mark], ["prompt", "duration"])
        for mark in sorted(spots)
    ]
    bad = Diagnostic(8, 4, 13, "error", "Property durration is not allowed.", "yaml-schema")
    session = session_tool.Session(
        "yaml-language-server 0", "node v0", text, completions, [bad], []
    )
    page = session_tool.transcript(session)
    line, column = spots["a"]
    assert f"line {line + 1}, column {column + 1}" in page
    assert "| `duration` |" in page and "| 9:5-14 | error |" in page
    assert "Property durration is not allowed." in page


def test_no_server_is_found_where_there_is_none(session_tool, tmp_path, monkeypatch):
    monkeypatch.delenv(session_tool.ENV, raising=False)
    monkeypatch.setattr(session_tool, "REPO", tmp_path)
    monkeypatch.setattr(session_tool, "HERE", tmp_path / "tools" / "x.py")
    assert session_tool.find_server(tmp_path / "nothing") is None


def test_the_language_server_completes_shot_keys_and_marks_mistakes(session_tool):
    """The real server: shot keys at a new key, the enum at ``resolution:`` and ``kind:``; the
    misspelt key and the 40 s duration are diagnosed on their lines."""
    server = session_tool.find_server()
    if server is None:
        pytest.skip(
            f"no yaml-language-server: set {session_tool.ENV} to the folder of "
            f"`{session_tool.INSTALL}`"
        )
    if shutil.which("node") is None:
        pytest.skip("no node on PATH for yaml-language-server")
    session = session_tool.run_session(server)
    assert {"prompt", "duration", "kind", "image", "references", "take"} <= set(session.labels("a"))
    assert {"480p", "720p"} <= set(session.labels("b"))
    assert {"text", "image", "references", "edit", "extend"} <= set(session.labels("c"))
    lines = session.text.splitlines()
    said = {lines[d.line].strip(): d.message for d in session.diagnostics}
    assert "durration" in said["durration: 4"]
    assert "maximum of 15" in said["duration: 40"]
    assert "yaml" in session.config_asked  # it asked the editor for settings, and got them
