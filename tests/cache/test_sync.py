"""Two machines (two cache folders) sharing one bucket: pull before paying, write through."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from grokreel import open_project
from grokreel.cache.store import sha256_file
from grokreel.testing.s3 import MotoS3
from tests.conftest import CountingBackend

BOARD = """
defaults: {resolution: 480p, aspect_ratio: "16:9", duration: 1}
assets: {knight: assets/knight.png}
shots:
  opening: {prompt: a knight rides into the fog}
  arrival: {image: knight, prompt: the knight dismounts}
  onward: {image: {shot: opening, frame: last}, prompt: onward}
cut: [opening, arrival, onward]
"""


@pytest.fixture
def board(write_board: Callable[..., Path]) -> Path:
    return write_board(BOARD)


@pytest.fixture
def machine(board: Path, tmp_path: Path, s3_env: str) -> Callable[..., object]:
    """Build the board with the cache folder of machine ``name`` and the shared remote."""

    def build(name: str, **options: object):
        project = open_project(board, cache_dir=tmp_path / name, remote=s3_env)
        return project, project.build(output=tmp_path / f"{name}.mp4", **options)

    return build


def test_second_machine_renders_nothing_and_gets_the_same_film(
    machine, counting_backend: CountingBackend, tmp_path: Path
) -> None:
    """The second cache pulls every job the first pushed: no render, byte-identical film."""
    _, first = machine("a")
    rendered = len(counting_backend.calls)
    _, second = machine("b")
    assert first.ok and second.ok and rendered > 0
    assert len(counting_backend.calls) == rendered
    assert second.count("rendered") == 0
    assert sha256_file(tmp_path / "a.mp4") == sha256_file(tmp_path / "b.mp4")


def test_plan_says_remote_at_no_cost(machine, tmp_path: Path, board: Path, s3_env: str) -> None:
    """A job only the remote holds is planned as `remote`, priced $0."""
    machine("a")
    statuses = open_project(board, cache_dir=tmp_path / "b", remote=s3_env).status()
    assert {s.status for s in statuses} == {"remote"}
    assert sum(s.cost for s in statuses) == 0


def test_corrupted_remote_blob_is_never_used(
    machine, moto: MotoS3, bucket: str, counting_backend: CountingBackend, tmp_path: Path
) -> None:
    """A remote blob whose bytes are not its hash is rendered again, and healed by the push."""
    import hashlib

    machine("a")
    for key in moto.keys(bucket, "team/objects/"):
        moto.put(bucket, key, b"not the video")
    before = len(counting_backend.calls)
    _, second = machine("b")
    assert second.ok and len(counting_backend.calls) > before
    assert sha256_file(tmp_path / "a.mp4") == sha256_file(tmp_path / "b.mp4")
    for key in moto.keys(bucket, "team/objects/"):
        assert hashlib.sha256(moto.get(bucket, key)).hexdigest() == key.rsplit("/", 1)[1]


def test_records_follow_their_blobs(machine, moto: MotoS3, bucket: str) -> None:
    """Every record in the bucket names a blob that is there."""
    import json

    machine("a")
    records = moto.keys(bucket, "team/actions/")
    blobs = {k.rsplit("/", 1)[1] for k in moto.keys(bucket, "team/objects/")}
    assert records
    for key in records:
        assert json.loads(moto.get(bucket, key))["output"] in blobs


def test_locked_takes_come_from_the_remote(
    machine, moto: MotoS3, bucket: str, board: Path, tmp_path: Path, s3_env: str
) -> None:
    """With the remote's records gone, a --locked build on a clean machine still finds every
    locked take among the remote's blobs."""
    machine("a")
    client = moto.client()
    for key in moto.keys(bucket, "team/actions/"):
        client.delete_object(Bucket=bucket, Key=key)
    project = open_project(board, cache_dir=tmp_path / "b", remote=s3_env)
    assert {s.status for s in project.status() if s.job.endpoint} == {"remote"}
    result = project.build(output=tmp_path / "b.mp4", locked=True)
    assert result.ok and result.count("rendered") == sum(
        1 for o in result.outcomes.values() if not o.job.endpoint
    )


def test_gc_remote_removes_only_what_nothing_references(
    machine, moto: MotoS3, bucket: str, board: Path, cli, s3_env: str, monkeypatch
) -> None:
    """After a prompt changes, the old take's blob and record are collected from the bucket;
    every blob the board or its lock file uses stays."""
    machine("a")
    board.write_text(board.read_text().replace("rides into the fog", "rides into the sun"))
    machine("a")
    before = set(moto.keys(bucket, "team/objects/"))
    monkeypatch.setenv("GROKREEL_REMOTE", s3_env)
    listed = cli("gc", board, "--remote", "--older-than", "0", "--cache-dir", board.parent / "x")
    assert listed.exit_code == 0 and "remote object" in listed.output
    cli("gc", board, "--remote", "--older-than", "0", "--remove", "--cache-dir", board.parent / "x")
    after = set(moto.keys(bucket, "team/objects/"))
    assert after < before
    project = open_project(board, cache_dir=board.parent / "fresh", remote=s3_env)
    assert {s.status for s in project.status()} == {"remote"}
