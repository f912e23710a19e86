"""The compiler: storyboard → DAG of jobs holding exact, normalized API requests."""

from __future__ import annotations

from grokreel.api import endpoint_id
from grokreel.plan import film_size


def test_defaults_made_explicit(compile_board):
    """An omitted duration and `duration: 6` compile to the same request."""
    plan = compile_board("""
        shots:
          a: {prompt: hello}
          b: {prompt: hello, duration: 6, aspect_ratio: "16:9", resolution: 720p}
    """)
    assert plan.job("a").request == plan.job("b").request
    assert plan.job("a").request == {
        "prompt": "hello",
        "duration": 6,
        "aspect_ratio": "16:9",
        "resolution": "720p",
    }


def test_each_endpoint_default_applied(compile_board):
    """Reference-to-video's own defaults (8 s, 480p) apply when the storyboard sets none."""
    plan = compile_board("""
        assets: {k: assets/knight.png}
        shots:
          r: {references: [k], prompt: "@k waves"}
          e: {kind: edit, video: r, prompt: sepia}
          x: {kind: extend, video: r, prompt: on}
    """)
    r, e, x = plan.job("r"), plan.job("e"), plan.job("x")
    assert (r.request["duration"], r.request["resolution"]) == (8, "480p")
    assert r.request["prompt"] == "@Image1 waves"
    assert e.request["resolution"] == "auto" and e.endpoint_id == endpoint_id("edit-video")
    assert x.request["duration"] == 6 and x.duration == 14


def test_frame_chain_and_post_edit_nodes(compile_board):
    """A frame of another shot and a post-edit each become their own node in the DAG."""
    plan = compile_board("""
        shots:
          a: {prompt: one, edit: make it blue}
          b: {image: {shot: a, frame: first}, prompt: two}
          c: {image: {shot: a, frame: 1.5}, prompt: three}
    """)
    assert set(plan.graph.nodes) == {
        "a",
        "a.edit",
        "a@first",
        "a@1.5s",
        "b",
        "c",
        "cut:1:a",
        "cut:2:b",
        "cut:3:c",
        "cut",
    }
    assert list(plan.graph.predecessors("a@first")) == ["a.edit"]
    assert plan.job("b").request["image_url"] == "job:a@first"
    assert plan.job("a@1.5s").request == {"source": "job:a.edit", "at": 1.5}
    assert plan.final["a"] == "a.edit"


def test_default_cut_skips_consumed_shots(compile_board):
    """Without `cut:`, the film holds every shot that no edit or extend consumes, in file order."""
    plan = compile_board("""
        shots:
          a: {prompt: one}
          b: {kind: extend, video: a, prompt: two}
          c: {prompt: three}
    """)
    refs = [clip["ref"] for clip in plan.job("cut").request["clips"]]
    assert refs == ["job:cut:1:b", "job:cut:2:c"]
    assert [plan.job(r[4:]).request["source"] for r in refs] == ["job:b", "job:c"]
    assert plan.job("cut").duration == 12 + 6


def test_cut_duration_subtracts_crossfades(compile_board):
    """The cut's expected length is the clips' sum minus crossfade overlaps."""
    plan = compile_board("""
        shots:
          a: {prompt: one, duration: 3}
          b: {prompt: two, duration: 4}
        cut: [a, {shot: b, transition: {type: crossfade, duration: 1}}]
        output: {resolution: 480p, aspect_ratio: "9:16"}
    """)
    cut = plan.job("cut")
    assert cut.duration == 6
    assert cut.request["format"] == {"width": 480, "height": 854, "fps": 24, "fit": "letterbox"}


def test_local_files_are_content_references(compile_board, board_dir):
    """Local inputs are `file:` references (hashed into keys), URLs pass through."""
    plan = compile_board("""
        assets:
          k: assets/knight.png
          remote: https://example.com/a.png
        shots:
          a: {image: k, prompt: one}
          b: {image: remote, prompt: two}
          c: {image: assets/forest.png, prompt: three}
    """)
    assert plan.job("a").request["image_url"] == f"file:{board_dir / 'assets/knight.png'}"
    assert plan.job("b").request["image_url"] == "https://example.com/a.png"
    assert plan.job("c").request["image_url"].endswith("assets/forest.png")


def test_film_sizes_are_even():
    """Nominal frame sizes follow resolution and aspect ratio, with even sides."""
    assert film_size("720p", "16:9") == (1280, 720)
    assert film_size("480p", "16:9") == (854, 480)
    assert film_size("720p", "9:16") == (720, 1280)
    assert film_size("480p", "4:3") == (640, 480)
    for ratio in ("16:9", "4:3", "3:2", "1:1", "2:3", "3:4", "9:16"):
        assert all(side % 2 == 0 for side in film_size("480p", ratio))


def test_samples_compile(board_dir):
    """Every sample storyboard in storyboards/ compiles without errors."""
    from pathlib import Path

    from grokreel.plan import compile_file

    samples = sorted((Path(__file__).parent.parent / "storyboards").glob("*.yaml"))
    assert len(samples) >= 2
    for sample in samples:
        assert compile_file(sample).graph.number_of_nodes() > 1


def test_auto_aspect_default_applies_to_image_shots_only(compile_board):
    """`defaults.aspect_ratio: auto` lets image shots follow their image; text keeps 16:9."""
    plan = compile_board("""
        defaults: {aspect_ratio: auto}
        assets: {k: assets/knight.png}
        shots:
          a: {prompt: hi}
          b: {image: k, prompt: yo}
    """)
    assert plan.job("a").request["aspect_ratio"] == "16:9"
    assert plan.job("b").request["aspect_ratio"] == "auto"


def test_urgency_is_the_longest_chain_of_work_still_to_come(compile_board):
    """A frame grab that a paid shot waits for outranks a clip's normalization for the cut:
    the scheduler runs local jobs by this number."""
    plan = compile_board("""
        shots:
          a: {prompt: one}
          b: {image: {shot: a, frame: last}, prompt: two}
    """)
    level = plan.urgency(lambda job: 60.0 if job.endpoint else 1.0)
    assert level["cut"] == 1.0
    assert level["cut:2:b"] == 2.0  # its normalization, then the cut
    assert level["b"] == 62.0  # the render, its normalization, the cut
    assert level["a@last"] == 63.0 and level["a@last"] > level["cut:1:a"]
    assert level["a"] == 123.0  # the longest chain: a → frame → b → normalize → cut
