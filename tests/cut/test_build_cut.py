"""The cut inside a build (animatic backend): cached normalize jobs, .srt, QA, OTIO export."""

from __future__ import annotations

import shutil
import subprocess
import textwrap
from pathlib import Path

import imageio_ffmpeg
import opentimelineio as otio
import pytest
from click.testing import CliRunner

from grokreel import open_project
from grokreel.build import BuildResult
from grokreel.cli import main
from grokreel.media.probe import probe

from .conftest import decode_all

FILM = """
    title: cut test
    defaults: {resolution: 480p, duration: 2}
    assets: {theme: theme.wav}
    shots:
      dawn: {prompt: dawn over the hills, caption: "At dawn."}
      ride: {prompt: a rider crosses the river, caption: They ride.}
    cut:
      - {title: The Ride, duration: 1}
      - {shot: dawn, in: 0.5, transition: fade}
      - {shot: ride, transition: {type: crossfade, duration: 0.5}, mute: true, fade_out: 0.5}
    music: {asset: theme, volume: 0.5, fade_out: 1}
    output: {resolution: 480p}
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BuildResult]:
    """The board, built once for the module (tests that edit it work on a copy)."""
    folder = tmp_path_factory.mktemp("board")
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=330:duration=6",
            str(folder / "theme.wav"),
        ],
        check=True,
    )
    path = folder / "film.yaml"
    path.write_text(textwrap.dedent(FILM).lstrip("\n"))
    return path, open_project(path).build()


@pytest.fixture
def film(built: tuple[Path, BuildResult], tmp_path: Path) -> Path:
    """A copy of the built board and its cache, free to edit."""
    shutil.copytree(built[0].parent, tmp_path / "board")
    return tmp_path / "board" / built[0].name


def rendered(result: BuildResult) -> set[str]:
    return {o.job.id for o in result.outcomes.values() if o.status == "rendered"}


def test_film_has_the_edit_and_a_srt_beside_it(built: tuple[Path, BuildResult]):
    """Card 1 s + dawn trimmed to 1.5 s + ride 2 s − 0.5 s crossfade; captions as SubRip."""
    _, result = built
    info = probe(result.output)
    assert info.num_frames == 24 * (1 + 1.5 + 2 - 0.5) and decode_all(result.output) == 96
    assert info.audio_duration == pytest.approx(4.0, abs=0.03)
    assert result.output.with_suffix(".srt").read_text() == (
        "1\n00:00:01,000 --> 00:00:02,250\nAt dawn.\n\n"
        "2\n00:00:02,250 --> 00:00:04,000\nThey ride.\n"
    )


def test_normalize_jobs_are_listed_and_cached(built: tuple[Path, BuildResult], film: Path):
    """Every clip's normalization is a job of its own; a second build renders nothing."""
    assert {"cut:1:title", "cut:2:dawn", "cut:3:ride"} <= rendered(built[1])
    again = open_project(film).build()
    assert rendered(again) == set() and again.count("cached") == 6


def test_transition_edit_rejoins_without_normalizing(film: Path):
    """Changing a crossfade re-runs only the join: every clip stays normalized in the cache."""
    film.write_text(film.read_text().replace("duration: 0.5}, mute", "duration: 1}, mute"))
    assert rendered(open_project(film).build()) == {"cut"}


def test_changed_shot_costs_one_normalization_and_the_join(film: Path):
    """A new prompt renders that shot, normalizes that clip again, and re-joins: nothing else."""
    film.write_text(film.read_text().replace("a rider crosses", "a rider fords"))
    assert rendered(open_project(film).build()) == {"ride", "cut:3:ride", "cut"}


def test_film_is_byte_identical_from_a_fresh_cache(built: tuple[Path, BuildResult], tmp_path: Path):
    """The whole pipeline is deterministic: a rebuild elsewhere gives the same film bytes."""
    path, first = built
    second = open_project(path, cache_dir=tmp_path / "fresh").build(output=tmp_path / "f.mp4")
    assert first.outcomes["cut"].output == second.outcomes["cut"].output


def test_qa_runs_after_every_render(built: tuple[Path, BuildResult]):
    """Each rendered shot's record carries its QA warnings (animatic drafts have none)."""
    _, result = built
    assert result.outcomes["dawn"].record["qa"] == []
    assert "qa" not in result.outcomes["cut:2:dawn"].record


def test_otio_export_reads_back(built: tuple[Path, BuildResult], tmp_path: Path):
    """`grokreel export --otio` writes a timeline that opentimelineio reads back as the cut."""
    dest = tmp_path / "cut.otio"
    run = CliRunner().invoke(main, ["export", str(built[0]), "--otio", str(dest)])
    assert run.exit_code == 0, run.output
    timeline = otio.adapters.read_from_file(str(dest))
    video, music = timeline.tracks
    assert [type(item).__name__ for item in video] == ["Clip", "Clip", "Transition", "Clip"]
    assert video.duration().to_seconds() == pytest.approx(4.0)
    card, dawn, _, ride = video
    assert card.metadata["grokreel"]["title"] == "The Ride"
    assert dawn.source_range.start_time.to_seconds() == pytest.approx(0.5)
    meta = ride.metadata["grokreel"]
    assert meta["prompt"] == "a rider crosses the river" and meta["mute"] is True
    assert len(meta["key"]) == 64 and "request_id" in meta and "cost" in meta
    assert (tmp_path / ride.media_reference.target_url).is_file()
    assert [m.name for m in dawn.markers] == ["At dawn."]
    assert music.kind == otio.schema.TrackKind.Audio
    assert music[0].metadata["grokreel"]["volume"] == 0.5


def test_export_before_build_says_so(film: Path, tmp_path: Path):
    """Exporting an unbuilt cut is an error telling the user to build first."""
    shutil.rmtree(film.parent / ".grokreel")
    run = CliRunner().invoke(main, ["export", str(film), "--otio", str(tmp_path / "x.otio")])
    assert run.exit_code == 1 and "grokreel build" in run.output
