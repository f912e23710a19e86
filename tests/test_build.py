"""End to end on the animatic backend: real files, real decoder, and a cache that skips work."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from grokreel import open_project
from grokreel.media.probe import probe

FILM = """
    title: test film
    defaults: {resolution: 480p, duration: 2}
    vars: {hero: a knight}
    assets: {knight: assets/knight.png}
    shots:
      opening: {prompt: "{{ hero }} in the fog", note: first}
      arrival: {image: knight, prompt: the knight arrives}
      onward: {image: {shot: opening, frame: last}, prompt: onward}
      longer: {kind: extend, video: onward, prompt: more, duration: 2}
    cut:
      - opening
      - {shot: arrival, transition: {type: crossfade, duration: 0.5}}
      - longer
    output: {resolution: 480p}
"""


@pytest.fixture
def film(write_board):
    return write_board(FILM)


def rendered(result) -> set[str]:
    return {o.job.id for o in result.outcomes.values() if o.status == "rendered"}


def test_film_builds_and_plays(film):
    """The film has the cut's length (clips minus crossfade), 24 fps, audio, at the output size."""
    result = open_project(film).build()
    assert result.ok and result.output == film.with_suffix(".mp4")
    info = probe(result.output)
    assert (info.width, info.height, info.fps) == (854, 480, 24)
    assert info.duration == pytest.approx(2 + 2 + 4 - 0.5, abs=1 / 24)
    assert info.has_audio and info.audio_duration == pytest.approx(info.duration, abs=0.05)
    assert result.outcomes["longer"].record["video"]["duration"] == pytest.approx(4, abs=1 / 24)


def test_rebuild_does_nothing(film):
    """A second build renders nothing and reports every node cached."""
    open_project(film).build()
    again = open_project(film).build()
    assert again.count("rendered") == 0
    assert again.count("cached") == len(again.outcomes) == 9


def test_prompt_change_rerenders_shot_descendants_and_cut(film):
    """Changing one prompt re-renders exactly that shot, what depends on it, and the cut."""
    open_project(film).build()
    film.write_text(film.read_text().replace("{{ hero }} in the fog", "{{ hero }} in the rain"))
    result = open_project(film).build()
    assert rendered(result) == {
        "opening",
        "opening@last",
        "onward",
        "longer",
        "cut:1:opening",
        "cut:3:longer",
        "cut",
    }


def test_cut_order_change_renders_no_shot(film):
    """Reordering the cut re-assembles the film and renders no shot."""
    open_project(film).build()
    text = film.read_text()
    assert "\n  - opening\n" in text
    film.write_text(
        text.replace("\n  - opening\n", "\n").replace("  - longer\n", "  - longer\n  - opening\n")
    )
    result = open_project(film).build()
    assert rendered(result) == {"cut"}


def test_cosmetic_fields_do_not_change_keys(film):
    """Notes and titles are not in any key."""
    first = open_project(film).build()
    film.write_text(
        film.read_text()
        .replace("note: first", "note: changed")
        .replace("title: test film", "title: other")
    )
    second = open_project(film).build()
    assert rendered(second) == set()
    assert {k: o.key for k, o in first.outcomes.items()} == {
        k: o.key for k, o in second.outcomes.items()
    }


def test_same_request_same_bytes_in_another_cache(film, tmp_path):
    """The animatic is deterministic: a fresh cache reproduces identical outputs."""
    first = open_project(film, cache_dir=tmp_path / "c1").build()
    second = open_project(film, cache_dir=tmp_path / "c2").build()
    assert {k: o.output for k, o in first.outcomes.items()} == {
        k: o.output for k, o in second.outcomes.items()
    }


def test_failure_stops_only_dependents(write_board, board_dir):
    """A failing shot skips its dependents and the cut; independent work still finishes (-k)."""
    # PNG by its magic number (passes validate), undecodable (fails at render)
    (board_dir / "assets" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"not an image")
    path = write_board("""
        defaults: {resolution: 480p, duration: 1}
        shots:
          good: {prompt: fine}
          bad: {image: assets/broken.png, prompt: fails, duration: 2}
          after: {kind: extend, video: bad, prompt: never}
    """)
    result = open_project(path).build(keep_going=True)
    status = {k: o.status for k, o in result.outcomes.items()}
    assert status == {
        "good": "rendered",
        "bad": "failed",
        "after": "skipped",
        "cut:1:good": "rendered",
        "cut:2:after": "skipped",
        "cut": "skipped",
    }
    assert "shot `bad`" in result.outcomes["bad"].error
    assert result.output is None


def test_damaged_cache_blob_is_rendered_again(film):
    """A truncated clip in the cache is detected and rendered again, never served."""
    project = open_project(film)
    first = project.build()
    blob = project.store.blob_path(first.outcomes["opening"].output)
    blob.write_bytes(blob.read_bytes()[:1000])
    again = open_project(film).build()
    assert "opening" in rendered(again)
    assert again.outcomes["opening"].output == first.outcomes["opening"].output


def test_targets_build_only_what_they_need(film):
    """Building a target shot renders it and its inputs only, and no cut."""
    result = open_project(film).build(targets=["onward"])
    assert set(result.outcomes) == {"opening", "opening@last", "onward"}
    assert result.output is None


def test_cache_dir_from_environment(film, tmp_path, monkeypatch):
    """GROKREEL_CACHE_DIR moves the cache out of the storyboard's folder."""
    monkeypatch.setenv("GROKREEL_CACHE_DIR", str(tmp_path / "shared-cache"))
    project = open_project(film)
    project.build(targets=["opening"])
    assert (tmp_path / "shared-cache" / "objects").is_dir()
    assert not (film.parent / ".grokreel").exists()


@pytest.mark.parametrize("jobs", [1, 3])
def test_concurrency_is_bounded(write_board, counting_backend, jobs):
    """`-j N` bounds how many jobs run at once, and independent jobs do overlap."""
    path = write_board("""
        defaults: {resolution: 480p, duration: 1}
        shots: {a: {prompt: a}, b: {prompt: b}, c: {prompt: c}, d: {prompt: d}}
    """)
    counting_backend.delay = 0.05
    open_project(path).build(jobs=jobs, targets=["a", "b", "c", "d"])
    assert counting_backend.peak == jobs


@pytest.mark.parametrize(
    ("options", "toml", "peak"),
    [
        ({"jobs": 1, "max_in_flight": 3}, "", 3),
        ({"jobs": 1}, "[fal]\nmax_in_flight = 2\n", 2),
        ({"jobs": 1, "max_in_flight": 4}, "[fal]\nmax_in_flight = 2\n", 4),
    ],
)
def test_paid_jobs_on_a_remote_backend_take_in_flight_slots(
    write_board, counting_backend, monkeypatch, options, toml, peak
):
    """A remote backend's jobs wait on the network: `--max-in-flight` (else grokreel.toml's
    `[fal] max_in_flight`) bounds them, not `-j`, which is for local CPU work."""
    path = write_board("""
        defaults: {resolution: 480p, duration: 1}
        shots: {a: {prompt: a}, b: {prompt: b}, c: {prompt: c}, d: {prompt: d}, e: {prompt: e}}
    """)
    if toml:
        (path.parent / "grokreel.toml").write_text(toml)
    monkeypatch.setattr(counting_backend, "name", "remote", raising=False)
    counting_backend.delay = 0.05
    open_project(path).build(targets=["a", "b", "c", "d", "e"], **options)
    assert counting_backend.peak == peak


def test_a_frame_a_paid_shot_waits_for_goes_before_queued_normalizations(
    write_board, counting_backend, monkeypatch
):
    """One core, paid renders on a remote backend: `a`'s clip lands while five normalizations
    wait for the core; the frame `d` needs is grabbed next, before them (they only lead to the
    cut), so `d` is submitted without waiting for the cut's work."""
    quick = ["b", "c", "e", "f", "g", "h"]
    shots = "\n".join(f"  {s}: {{prompt: {s}}}" for s in quick)
    path = write_board(f"""
defaults: {{resolution: 480p, duration: 1}}
shots:
  a: {{prompt: a}}
{shots}
  d: {{image: {{shot: a, frame: last}}, prompt: d}}
cut: [{", ".join(f"{{shot: {s}, title: {s}}}" for s in ["a", *quick, "d"])}]
""")
    monkeypatch.setattr(counting_backend, "name", "remote", raising=False)
    counting_backend.gates["a"] = asyncio.Event()  # `a` lands once a normalization is running
    started: list[str] = []

    def listen(event: object) -> None:
        if isinstance(event, tuple) and event[1] == "started":
            started.append(event[0].id)
            if event[0].kind == "normalize":
                counting_backend.gates["a"].set()

    result = open_project(path).build(jobs=1, max_in_flight=16, listener=listen)
    assert result.ok
    local = [j for j in started if j.startswith("cut:") or "@" in j]
    first_normalization = next(i for i, j in enumerate(local) if j.startswith("cut:"))
    assert local.index("a@last") == first_normalization + 1, local
    assert started.index("d") < started.index(local[-2]), started  # d before the cut's tail


def test_plan_reports_reasons(film):
    """Before a build every node is new; after, cached; after an edit, stale with the reason."""
    project = open_project(film)
    assert {s.status for s in project.status()} == {"new"}
    project.build()
    assert {s.status for s in open_project(film).status()} == {"cached"}
    film.write_text(film.read_text().replace("480p, duration: 2}", "480p, duration: 3}"))
    statuses = {s.job.id: s for s in open_project(film).status()}
    assert statuses["opening"].status == "stale"
    assert statuses["opening"].reasons == ["duration 2 → 3"]
    assert statuses["longer"].reasons == ["upstream `onward` will be rendered"]


def test_sample_storyboard_renders(tmp_path):
    """The README's sample film renders offline and plays with audio at the cut's length."""
    samples = Path(__file__).resolve().parent.parent / "storyboards"
    shutil.copytree(
        samples, tmp_path / "boards", ignore=shutil.ignore_patterns(".grokreel", "*.mp4")
    )
    result = open_project(tmp_path / "boards" / "minimal.yaml").build()
    info = probe(result.output)
    assert info.duration == pytest.approx(3 + 3 - 1, abs=1 / 24) and info.has_audio


def test_a_jobs_seconds_count_from_when_it_starts_working(write_board):
    """With one core, the second shot waits for the first; its time is its own work, not that
    wait (the live view's "rendered in N s" and the report read it)."""
    import time

    path = write_board("""
        defaults: {resolution: 480p, duration: 1}
        shots: {a: {prompt: a}, b: {prompt: b}}
    """)
    started: dict[str, float] = {}
    took: dict[str, tuple[float, float]] = {}

    def listen(event: object) -> None:
        if isinstance(event, tuple):
            if event[1] == "started":
                started[event[0].id] = time.monotonic()
        elif event.status == "rendered":  # type: ignore[attr-defined]
            job_id = event.job.id  # type: ignore[attr-defined]
            took[job_id] = (event.seconds, time.monotonic() - started[job_id])  # type: ignore[attr-defined]

    assert open_project(path, backend="animatic").build(jobs=1, listener=listen).ok
    for job_id, (said, seen) in took.items():
        assert said <= seen + 0.01, (job_id, said, seen)
