"""The draft tier: 480p renders cached beside the finals, a film of its own, the lock untouched."""

from __future__ import annotations

import pytest

from grokreel.build import open_project
from grokreel.cache.lock import lock_path
from grokreel.draft import draft_output
from grokreel.media.probe import probe

BOARD = """
defaults: {resolution: 720p, duration: 1}
assets: {knight: assets/knight.png}
shots:
  sea: {prompt: a calm sea, duration: 2}
  hero: {image: knight, prompt: he turns, edit: {prompt: grade it blue, resolution: 720p}}
  more: {kind: extend, video: sea, prompt: on and on, duration: 2}
"""


@pytest.fixture
def final_then_draft(write_board):
    """The board built as final, then as draft; the lock file's bytes after the final."""
    path = write_board(BOARD)
    assert open_project(path, backend="animatic").build().ok
    locked = lock_path(path).read_bytes()
    draft = open_project(path, backend="animatic", draft=True)
    result = draft.build()
    assert result.ok
    return path, locked, result


def test_drafts_and_finals_coexist(final_then_draft):
    """After a draft build, the final is still all cached, and so is the draft."""
    path, _, result = final_then_draft
    assert result.count("rendered") > 0
    for draft in (False, True):
        statuses = open_project(path, backend="animatic", draft=draft).status()
        assert {s.status for s in statuses} == {"cached"}


def test_draft_film_is_480p_beside_the_final(final_then_draft):
    """The draft film is NAME.draft.mp4 at 480 lines; the final stays at 720."""
    path, _, result = final_then_draft
    assert result.output == path.with_name("film.draft.mp4")
    assert probe(result.output).height == 480
    assert probe(path.with_suffix(".mp4")).height == 720


def test_a_draft_never_writes_the_lock_file(final_then_draft):
    """The lock file pins finals only."""
    path, locked, _ = final_then_draft
    assert lock_path(path).read_bytes() == locked


def test_plan_shows_the_saving(cli, write_board):
    """`plan --draft` prices the draft against the final (480p is cheaper than 720p)."""
    path = write_board(BOARD)
    shown = cli("plan", path, "--draft", "--backend", "animatic")
    assert shown.exit_code == 0
    # final: 0.14 (sea) + 0.072 (hero) + 0.08 (its edit) + 0.16 (more); draft: 5/7 of the output
    assert "draft: estimated $0.33 on the API against $0.45 for the final (saves $0.12)" in (
        shown.output
    )


@pytest.mark.parametrize(
    ("final", "draft"),
    [("film.mp4", "film.draft.mp4"), ("out/cut.mov", "out/cut.draft.mov"), ("x", "x.draft.mp4")],
)
def test_draft_output_names(final, draft):
    """The draft film's name is the final's with `.draft` before the suffix."""
    assert draft_output(final) == draft
