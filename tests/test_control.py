"""Make-style control: exact stale sets with reasons, -k, --force, takes, the lock file, gc."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from PIL import Image

from grokreel import PlanError, open_project
from grokreel.cli import main

# Eight shots with chains: a frame chain, a post-edit, an extend of an edit, references.
BOARD = """
    defaults: {resolution: 480p, duration: 2}
    assets: {knight: assets/knight.png, forest: assets/forest.png}
    shots:
      dawn: {prompt: dawn over the hills}
      hero: {image: knight, prompt: the knight wakes}
      march: {image: {shot: hero, frame: last}, prompt: the knight marches, edit: make it cold}
      longer: {kind: extend, video: march, prompt: the march goes on, duration: 2}
      meet: {references: [knight, forest], prompt: "@knight enters @forest"}
      sepia: {kind: edit, video: meet, prompt: sepia memory}
      dusk: {prompt: dusk falls}
      night: {prompt: stars, take: 1}
    cut: [dawn, hero, longer, sepia, dusk, night]
"""
SHOT_JOBS = {
    "dawn",
    "hero",
    "hero@last",
    "march",
    "march.edit",
    "longer",
    "meet",
    "sepia",
    "dusk",
    "night",
    "cut",
}
CLIPS = {"cut:1:dawn", "cut:2:hero", "cut:3:longer", "cut:4:sepia", "cut:5:dusk", "cut:6:night"}


@pytest.fixture
def built(write_board, counting_backend):
    """The 8-shot board, built once; the backend's call list is reset afterwards."""
    path = write_board(BOARD)
    assert open_project(path).build().ok
    counting_backend.calls.clear()
    return path


def edit(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def stale(path):
    return {s.job.id: s.reasons for s in open_project(path).status() if s.status != "cached"}


def rebuild_calls(path, backend, **options):
    result = open_project(path).build(**options)
    assert result.ok
    return set(backend.calls)


def test_prompt_edit(built, counting_backend):
    """A prompt edit makes that shot and its descendants stale; only they are rendered again."""
    edit(built, "the knight wakes", "the knight stirs")
    reasons = stale(built)
    assert set(reasons) == {
        "hero",
        "hero@last",
        "march",
        "march.edit",
        "longer",
        "cut:2:hero",
        "cut:3:longer",
        "cut",
    }
    assert reasons["hero"] == ["prompt changed"]
    assert reasons["march"] == ["upstream `hero@last` will be rendered"]
    assert rebuild_calls(built, counting_backend) == {"hero", "march", "march.edit", "longer"}


def test_image_bytes_edit(built, counting_backend, board_dir):
    """Changing an image file's bytes names the file; every shot using it is stale."""
    Image.new("RGB", (64, 64), (200, 0, 0)).save(board_dir / "assets" / "knight.png")
    reasons = stale(built)
    assert reasons["hero"] == ["image `knight.png` bytes changed"]
    assert reasons["meet"] == ["reference image `knight.png` bytes changed"]
    assert set(reasons) == SHOT_JOBS - {"dawn", "dusk", "night"} | {
        "cut:2:hero",
        "cut:3:longer",
        "cut:4:sepia",
    }
    assert rebuild_calls(built, counting_backend) == {
        "hero",
        "march",
        "march.edit",
        "longer",
        "meet",
        "sepia",
    }


def test_duration_edit(built, counting_backend):
    """A duration change is reported as `duration 2 → 3` on exactly that shot."""
    edit(built, "dusk: {prompt: dusk falls}", "dusk: {prompt: dusk falls, duration: 3}")
    reasons = stale(built)
    assert reasons == {
        "dusk": ["duration 2 → 3"],
        "cut:5:dusk": ["upstream `dusk` will be rendered"],
        "cut": ["upstream `cut:5:dusk` will be rendered"],
    }
    assert rebuild_calls(built, counting_backend) == {"dusk"}


def test_cut_only_edit(built, counting_backend):
    """Editing only the cut re-assembles the film and renders no shot."""
    edit(built, "cut: [dawn, hero,", "cut: [hero, dawn,")
    assert stale(built) == {"cut": ["the cut's clips or transitions changed"]}
    assert rebuild_calls(built, counting_backend) == set()


def test_take_and_pin_back(built, counting_backend):
    """`take: 2` is a new variation; going back to take 1 reuses the stored first take."""
    first = open_project(built).status()
    edit(built, "take: 1", "take: 2")
    assert stale(built)["night"] == ["take 1 → 2"]
    assert rebuild_calls(built, counting_backend) == {"night"}
    counting_backend.calls.clear()
    edit(built, "take: 2", "take: 1")
    assert stale(built) == {}  # take 1 and the film cut from it are both still in the store
    assert rebuild_calls(built, counting_backend) == set()
    assert [s.output for s in open_project(built).status()] == [s.output for s in first]


def test_force_makes_a_new_take_and_keeps_the_old(built, counting_backend):
    """--force re-renders a shot as a new take plus everything downstream; the old take stays."""
    project = open_project(built)
    before = {s.job.id: s.output for s in project.status()}
    result = project.build(force=["march"])
    assert set(counting_backend.calls) == {"march", "march.edit", "longer"}
    assert result.outcomes["march"].output != before["march"]
    assert before["march"] in result.outcomes["march"].record["takes"]
    assert project.store.has(before["march"])


def test_locked_build_refuses_before_rendering(built, counting_backend):
    """`build --locked` with one stale shot fails with zero backend calls."""
    edit(built, "stars", "many stars")
    with pytest.raises(PlanError, match="--locked: 1 shot job"):
        open_project(built).build(locked=True)
    assert counting_backend.calls == []


def test_locked_build_passes_when_up_to_date(built, counting_backend):
    """A --locked build of an unchanged board succeeds without rendering."""
    assert open_project(built).build(locked=True).count("rendered") == 0


def test_keep_going_finishes_independent_work(write_board, counting_backend, board_dir):
    """With -k every shot independent of the failure is rendered; without it the build stops."""
    # PNG by its magic number (passes validate), undecodable (fails at render)
    (board_dir / "assets" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"junk")
    text = """
        defaults: {resolution: 480p, duration: 2}
        shots:
          bad: {image: assets/broken.png, prompt: x}
          after: {kind: extend, video: bad, prompt: y}
          a: {prompt: a}
          b: {prompt: b}
    """
    path = write_board(text)
    stopped = open_project(path).build(jobs=1)
    assert stopped.outcomes["bad"].status == "failed"
    assert {stopped.outcomes[k].status for k in ("a", "b")} == {"skipped"}
    going = open_project(path).build(jobs=1, keep_going=True)
    status = {k: o.status for k, o in going.outcomes.items()}
    assert status == {
        "bad": "failed",
        "after": "skipped",
        "a": "rendered",
        "b": "rendered",
        "cut:1:after": "skipped",
        "cut:2:a": "rendered",
        "cut:3:b": "rendered",
        "cut": "skipped",
    }


def test_lock_file_is_deterministic_and_complete(built):
    """The lock has one entry per node with key and sha256; a no-op build leaves it unchanged."""
    lock = built.with_suffix(".lock")
    text = lock.read_text()
    nodes = json.loads(text)["nodes"]
    assert set(nodes) == SHOT_JOBS | CLIPS
    assert nodes["dawn"]["endpoint"] == "xai/grok-imagine-video/text-to-video"
    assert {"key", "output_sha256", "size", "duration"} <= set(nodes["dawn"])
    open_project(built).build()
    assert lock.read_text() == text


def test_gc_lists_and_removes_unreferenced(built, tmp_path):
    """gc finds the old take after an edit and removes it; referenced objects stay."""
    old = open_project(built).status()
    old_dusk = next(s.output for s in old if s.job.id == "dusk")
    edit(built, "dusk falls", "dusk settles")
    open_project(built).build()
    runner = CliRunner()
    listing = runner.invoke(main, ["gc", str(built), "--older-than", "0"])
    assert listing.exit_code == 0 and old_dusk in listing.stdout
    assert not any(s.output in listing.stdout for s in open_project(built).status())
    runner.invoke(main, ["gc", str(built), "--older-than", "0", "--remove"])
    project = open_project(built)
    assert not project.store.has(old_dusk)
    assert {s.status for s in project.status()} == {"cached"}


def test_why_explains_one_node(built):
    """`grokreel why` prints the node's request, key and reasons."""
    edit(built, "dusk falls", "dusk settles")
    out = CliRunner().invoke(main, ["why", str(built), "dusk"]).stdout
    assert "dusk: stale" in out and "prompt changed" in out and '"duration": 2' in out


def test_dry_run_renders_nothing(built, counting_backend):
    """`build -n` prints the plan and renders nothing."""
    edit(built, "dusk falls", "dusk settles")
    out = CliRunner().invoke(main, ["build", "-n", str(built), "--json"]).stdout
    nodes = {n["id"]: n["status"] for n in json.loads(out)["nodes"]}
    assert nodes["dusk"] == "stale" and counting_backend.calls == []
