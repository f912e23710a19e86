"""`gc` in the local cache: the review page's thumbnails go once their clip is no longer cached."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from grokreel import open_project
from grokreel.review.thumbs import cached_thumbnails

BOARD = """
    defaults: {resolution: 480p, duration: 1}
    shots:
      a: {prompt: a lake at dawn}
      b: {prompt: a tower at dusk}
    cut: [a, b]
"""


def thumbnailed(board: Path) -> dict[Path, str]:
    """Every thumbnail in the board's cache, with the clip it shows."""
    return dict(cached_thumbnails(open_project(board).store))


def test_gc_removes_thumbnails_of_clips_no_longer_cached(
    cli: Callable[..., Any], write_board: Callable[..., Path]
):
    """After a prompt edit, gc lists and removes the old clip's thumbnails with the clip, and
    those of a clip already gone from the store, reporting their bytes; current ones stay."""
    board = write_board(BOARD)
    assert cli("build", board).exit_code == 0
    old = {s.job.id: s.output for s in open_project(board).status()}
    board.write_text(board.read_text().replace("a tower at dusk", "a tower at night"))
    assert cli("build", board).exit_code == 0
    project = open_project(board)
    current = {s.output for s in project.status()}
    project.store.blob_path(old["cut"]).unlink()  # as gc did before it knew of thumbnails
    thumbs = thumbnailed(board)
    going = {path: clip for path, clip in thumbs.items() if clip not in current}
    assert {old["b"], old["cut"]} <= set(going.values()) and len(going) < len(thumbs)
    size = sum(path.stat().st_size for path in going) / 1e6

    listing = cli("gc", board, "--older-than", "0")
    assert (
        f"{len(going)} thumbnail(s) of uncached clips, {size:.2f} MB collectable" in listing.output
    )
    assert thumbnailed(board) == thumbs
    removal = cli("gc", board, "--older-than", "0", "--remove")
    assert f"{len(going)} thumbnail(s) of uncached clips, {size:.2f} MB removed" in removal.output
    assert thumbnailed(board) == {p: c for p, c in thumbs.items() if p not in going}
    assert not project.store.has(old["b"])
    assert "thumbnail" not in cli("gc", board, "--older-than", "0").output
    assert "0 rendered" in cli("build", board).output  # nothing current was collected
