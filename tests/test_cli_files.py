"""The files grokreel reads and writes: modes, damaged metadata, read-only and full disks."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

SMALL = """
    defaults: {resolution: 480p, duration: 1}
    shots:
      a: {prompt: first}
      b: {prompt: second, caption: hello}
"""


@contextmanager
def mounted(target: Path, *options: str) -> Iterator[None]:
    """Mount over ``target`` (we run as root in CI); skip the test where mounting is refused."""
    target.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["mount", *options, str(target)], capture_output=True, text=True)
    if proc.returncode:
        pytest.skip(f"cannot mount here: {proc.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """``folder`` made read-only by a read-only bind mount over itself."""
    with mounted(folder, "--bind", str(folder)):
        proc = subprocess.run(
            ["mount", "-o", "remount,ro,bind", str(folder)], capture_output=True, text=True
        )
        if proc.returncode:
            pytest.skip(f"cannot remount read-only: {proc.stderr.strip()}")
        yield


@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_written_files_follow_the_umask(cli, write_board, umask):
    """The film, its .srt and the lock file get 0666 & ~umask, like any file a user creates."""
    board = write_board(SMALL)
    old = os.umask(umask)
    try:
        assert cli("build", board).exit_code == 0
    finally:
        os.umask(old)
    for path in (board.with_suffix(".mp4"), board.with_suffix(".srt"), board.with_suffix(".lock")):
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask, path


@pytest.mark.parametrize("name", ["film.yaml", "film.lock", "assets/knight.png", "grokreel.toml"])
def test_output_never_overwrites_an_input(cli, write_board, board_dir, name):
    """`-o` onto the storyboard, its lock, an asset or grokreel.toml is refused before rendering."""
    (board_dir / "grokreel.toml").write_text("[prices]\n")
    board = write_board(SMALL.replace("second,", "second, image: assets/knight.png,"))
    before = (board_dir / name).read_bytes() if (board_dir / name).exists() else None
    result = cli("build", board, "-o", board_dir / name)
    assert result.exit_code == 1 and "refusing to overwrite" in result.output
    after = (board_dir / name).read_bytes() if (board_dir / name).exists() else None
    assert after == before and not (board_dir / ".grokreel" / "objects").exists()


@pytest.mark.parametrize("path", ["/tmp/grokreel-escape.mp4", "../../escape.mp4"])
def test_storyboard_output_stays_in_the_project(cli, write_board, path):
    """A storyboard's `output.path` outside its folder is refused; the user's `-o` is not."""
    board = write_board(SMALL + f"    output: {{path: {path}}}\n")
    result = cli("build", board, "-n")
    assert result.exit_code == 1 and "outside the project folder" in result.output
    elsewhere = board.parent.parent / "chosen.mp4"
    assert cli("build", board, "-o", elsewhere).exit_code == 0 and elsewhere.is_file()


def test_damaged_action_record_counts_as_absent(cli, write_board):
    """Binary bytes in an action record make that job run again instead of a traceback."""
    board = write_board(SMALL)
    assert cli("build", board).exit_code == 0
    records = sorted((board.parent / ".grokreel" / "actions").glob("??/*.json"))
    records[0].write_bytes(b"\xff\xfe\x00binary")
    records[1].write_text("[1, 2]")
    board.with_suffix(".lock").unlink()  # else the lock pins the same outputs
    again = json.loads(cli("build", board, "--json").stdout)
    assert again["rendered"] >= 1 and again["failed"] == 0


@pytest.mark.parametrize("junk", [b"\xff\xfe\x00binary", b"[]", b'{"nodes": [1]}'])
def test_damaged_lock_file_is_a_message(cli, write_board, junk):
    """A damaged lock file names itself and what to do, exit 1, for build and gc alike."""
    board = write_board(SMALL)
    board.with_suffix(".lock").write_bytes(junk)
    for args in (["build", board], ["gc", board]):
        result = cli(*args)
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert f"{board.with_suffix('.lock')} is not a valid lock file" in result.output


def test_read_only_cache_still_serves_a_cached_build(cli, write_board):
    """A fully cached build on a read-only cache exits 0: quietly when the cache already holds
    its state, with a warning when it has state to save and cannot (here: the state was lost)."""
    board = write_board(SMALL)
    assert cli("build", board).exit_code == 0
    board.with_suffix(".mp4").unlink()
    cache = board.parent / ".grokreel"
    with read_only(cache):
        quiet = cli("build", board)
    assert quiet.exit_code == 0 and "could not record" not in quiet.output, quiet.output
    assert board.with_suffix(".mp4").is_file()
    board.with_suffix(".mp4").unlink()
    for state in (cache / "state").glob("*.json"):
        state.unlink()
    with read_only(cache):
        result = cli("build", board)
        assert result.exit_code == 0, result.output
        assert "could not record this build" in result.output
        assert board.with_suffix(".mp4").is_file()
        board.write_text(SMALL.replace("first", "changed"))
        changed = cli("build", board)
    assert changed.exit_code == 1 and "read-only" in changed.output
    assert "Traceback" not in changed.output


def test_full_disk_is_a_message(cli, write_board, tmp_path):
    """Running out of space in the cache or for the film is a message naming the path."""
    board = write_board(SMALL)
    tiny = tmp_path / "tiny"
    with mounted(tiny, "-t", "tmpfs", "-o", "size=64k", "tmpfs"):
        result = cli("build", board, "--cache-dir", tiny / "cache")
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert "the disk is full" in result.output or "No space left" in result.output
    with mounted(tiny, "-t", "tmpfs", "-o", "size=64k", "tmpfs"):
        result = cli("build", board, "-o", tiny / "film.mp4")
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert f"{tiny / 'film.mp4'}: the disk is full" in result.output
