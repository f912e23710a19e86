"""The final cut, checked on real files with a real decoder (PyAV), never on MoviePy's word."""

from __future__ import annotations

import os
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import imageio_ffmpeg
import numpy as np
import pytest

from grokreel.cut import CutClip, FilmFormat, Transition, assemble, film_duration
from grokreel.errors import MediaError
from grokreel.media.probe import probe

FPS = 24
RATE = 48_000
BT709 = 1  # AVCOL_PRI_BT709 == AVCOL_TRC_BT709 == AVCOL_SPC_BT709
FRAME = FilmFormat(320, 180, fps=FPS)
CUT = Transition()
XFADE = Transition("crossfade", 0.5)

# name: (lavfi video source, seconds, sine frequency or None for a clip without audio)
SOURCES = {
    "wide": ("testsrc2=size=320x180", 1.5, 440),
    "tall": ("color=c=red:size=180x320", 1.0, 660),
    "mute": ("color=c=blue:size=320x180", 1.0, None),
}


def _make_clip(path: Path, video: str, seconds: float, tone: int | None) -> None:
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    cmd = [ffmpeg, "-y", "-loglevel", "error", "-f", "lavfi"]
    cmd += ["-i", f"{video}:rate={FPS}:duration={seconds}"]
    if tone:
        cmd += ["-f", "lavfi", "-i", f"sine=frequency={tone}:sample_rate={RATE}:duration={seconds}"]
        cmd += ["-ac", "2", "-c:a", "aac"]
    cmd += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)]
    subprocess.run(cmd, check=True)


@pytest.fixture(scope="module")
def src(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("sources")
    for name, spec in SOURCES.items():
        _make_clip(folder / f"{name}.mp4", *spec)
    return {name: folder / f"{name}.mp4" for name in SOURCES}


@pytest.fixture(scope="module")
def cwd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty working directory every film is assembled from: nothing may land in it."""
    return tmp_path_factory.mktemp("cwd")


@pytest.fixture(scope="module")
def film(tmp_path_factory: pytest.TempPathFactory, cwd: Path):
    def make(clips: list[CutClip], fmt: FilmFormat = FRAME) -> Path:
        dest = tmp_path_factory.mktemp("film") / "film.mp4"
        with pytest.MonkeyPatch.context() as mp:
            mp.chdir(cwd)
            assemble(clips, dest, fmt)
        return dest

    return make


@pytest.fixture(scope="module")
def cut_film(src: dict[str, Path], film) -> Path:
    """wide [0, 1.5) · tall [1.5, 2.5) · mute [2.5, 3.5), hard cuts, letterboxed."""
    return film([CutClip(src["wide"]), CutClip(src["tall"], CUT), CutClip(src["mute"], CUT)])


@pytest.fixture(scope="module")
def xfade_film(src: dict[str, Path], film) -> Path:
    """wide [0, 1.5) crossfading over [1.0, 1.5) into tall [1.0, 2.0)."""
    return film([CutClip(src["wide"]), CutClip(src["tall"], XFADE)])


@pytest.fixture(scope="module")
def crop_film(src: dict[str, Path], film) -> Path:
    """The vertical red clip centre-cropped into the horizontal frame."""
    return film([CutClip(src["tall"])], FilmFormat(320, 180, fps=FPS, fit="crop"))


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def _frame_at(path: Path, t: float) -> np.ndarray:
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if frame.time >= t - 1e-3:
                return frame.to_ndarray(format="rgb24").astype(int)
    raise AssertionError(f"no frame at {t} s in {path}")


def _audio(path: Path) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """All samples (channels × n) and each decoded frame's (pts, samples) in 1/rate units."""
    with av.open(str(path)) as container:
        frames = list(container.decode(audio=0))
    assert frames and frames[0].time_base == Fraction(1, RATE)
    return np.concatenate([f.to_ndarray() for f in frames], axis=1), [
        (f.pts, f.samples) for f in frames
    ]


def _rms(samples: np.ndarray, start: float, end: float) -> float:
    return float(np.sqrt(np.mean(samples[:, int(start * RATE) : int(end * RATE)] ** 2)))


def _children() -> list[str]:
    """Live child processes of this test run (leaked ffmpeg readers would show up here)."""
    me = str(os.getpid())
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == me and fields[0] != "Z":
            kids.append(stat.parent.name)
    return kids


@pytest.mark.parametrize(
    ("durations", "transitions", "expected"),
    [
        ([1.0, 2.0, 3.0], [CUT, CUT, CUT], 6.0),
        ([1.0, 2.0, 3.0], [XFADE, XFADE, CUT], 5.5),
        ([2.0, 2.0], [CUT, Transition("crossfade", 1.25)], 2.75),
        ([4.0], [Transition("crossfade", 3.0)], 4.0),
        ([1.0, 1.0], [CUT, Transition("cut", 0.5)], 2.0),
    ],
)
def test_film_duration_subtracts_crossfade_overlaps(durations, transitions, expected):
    """film_duration sums clips, subtracts crossfades, ignores the first transition and cuts."""
    assert film_duration(durations, transitions) == pytest.approx(expected)


def test_hard_cuts_last_the_sum_of_the_clips(cut_film: Path):
    """Hard cuts: the film lasts exactly the sum of its clips, frame for frame."""
    info = probe(cut_film)
    assert info.video_duration == pytest.approx(3.5, abs=1 / FPS)
    assert info.num_frames == 3.5 * FPS


def test_crossfade_shortens_the_film_by_its_overlap(xfade_film: Path):
    """A crossfade overlaps its clips: the film lasts the sum minus the overlap."""
    assert probe(xfade_film).video_duration == pytest.approx(2.0, abs=1 / FPS)


def test_streams_are_h264_yuv420p_and_aac_stereo_48k(cut_film: Path):
    """The film is H.264 yuv420p at the format's size and fps, with AAC stereo 48 kHz."""
    info = probe(cut_film)
    assert (info.width, info.height, info.fps) == (320, 180, FPS)
    assert (info.video_codec, info.pix_fmt) == ("h264", "yuv420p")
    assert (info.audio_codec, info.audio_rate, info.audio_channels) == ("aac", RATE, 2)


def test_colour_is_tagged_bt709(cut_film: Path):
    """Primaries, transfer and matrix are all tagged BT.709, so players don't shift colours."""
    with av.open(str(cut_film)) as container:
        cc = container.streams.video[0].codec_context
        assert (cc.color_primaries, cc.color_trc, cc.colorspace) == (BT709, BT709, BT709)


def test_vertical_clip_is_pillarboxed(cut_film: Path):
    """Letterbox: the 9:16 clip is scaled to fit the height and centred between black bars."""
    frame = _frame_at(cut_film, 2.0)
    band = frame[:, 115:205]  # the red clip: 101 px wide, centred at 160
    assert band[..., 0].min() > 200 and band[..., 1:].max() < 60
    for bar in (frame[:, :100], frame[:, 220:]):
        assert bar.max() < 20


def test_crop_fills_the_frame(crop_film: Path):
    """Crop: the 9:16 clip covers the whole 16:9 frame, no bars anywhere."""
    frame = _frame_at(crop_film, 0.5)
    assert frame.shape == (180, 320, 3)
    assert frame[..., 0].min() > 200 and frame[..., 1:].max() < 60


def test_crossfade_blends_the_pictures(xfade_film: Path):
    """Mid-crossfade the frame mixes both clips, the bars included (not a hard cut)."""
    bar = _frame_at(xfade_film, 1.25)[:, :100]
    assert 20 < bar.mean() < _frame_at(xfade_film, 0.5)[:, :100].mean() - 20


@pytest.mark.parametrize("name", ["cut_film", "xfade_film", "crop_film"])
def test_audio_is_continuous_over_the_whole_film(name: str, request: pytest.FixtureRequest):
    """The sound runs gap-free from start to end, as long as the picture (within 50 ms)."""
    path = request.getfixturevalue(name)
    info = probe(path)
    samples, frames = _audio(path)
    assert info.audio_duration == pytest.approx(info.video_duration, abs=0.05)
    assert samples.shape[1] / RATE == pytest.approx(info.video_duration, abs=0.05)
    for (pts, count), (next_pts, _) in zip(frames, frames[1:], strict=False):
        assert next_pts == pts + count


def test_clip_without_audio_is_silent_in_its_span(cut_film: Path):
    """A clip without sound contributes silence; the clips around it keep theirs."""
    samples, _ = _audio(cut_film)
    assert _rms(samples, 0.1, 1.4) > 0.05
    assert _rms(samples, 1.6, 2.4) > 0.05
    assert _rms(samples, 2.6, 3.4) < 1e-3


def test_crossfade_does_not_sum_the_sounds(xfade_film: Path):
    """Overlapping sounds fade out/in: no louder than either clip alone (summing gives √2×)."""
    samples, _ = _audio(xfade_film)
    alone = min(_rms(samples, 0.2, 0.9), _rms(samples, 1.6, 1.9))
    assert _rms(samples, 1.05, 1.45) < 1.05 * alone


def test_no_reader_process_or_temp_file_is_left(cut_film: Path, cwd: Path):
    """Every clip is closed (no ffmpeg left running) and nothing lands in cwd or beside dest."""
    assert _children() == []
    assert list(cwd.iterdir()) == []
    assert [p.name for p in cut_film.parent.iterdir()] == ["film.mp4"]


def test_missing_input_raises_and_writes_nothing(src: dict[str, Path], out_dir: Path):
    """A missing clip is a MediaError naming it; no film and no temp file are left behind."""
    clips = [CutClip(src["wide"]), CutClip(out_dir.parent / "nope.mp4")]
    with pytest.raises(MediaError, match="nope.mp4"):
        assemble(clips, out_dir / "film.mp4", FRAME)
    assert list(out_dir.iterdir()) == []


def test_failed_write_leaves_nothing(
    src: dict[str, Path], out_dir: Path, monkeypatch: pytest.MonkeyPatch
):
    """An encoder failure mid-write is a MediaError; its partial files are removed."""
    from moviepy import VideoClip

    def broken(self, filename: str, **kwargs) -> None:
        Path(filename).write_bytes(b"half a film")
        raise OSError("ffmpeg died")

    monkeypatch.setattr(VideoClip, "write_videofile", broken)
    with pytest.raises(MediaError, match="ffmpeg died"):
        assemble([CutClip(src["wide"])], out_dir / "film.mp4", FRAME)
    assert list(out_dir.iterdir()) == []
    assert _children() == []


@pytest.mark.parametrize(
    ("first", "second", "seconds"), [("wide", "tall", 1.2), ("tall", "wide", 1.2)]
)
def test_crossfade_longer_than_a_clip_is_refused(
    src: dict[str, Path], out_dir: Path, first: str, second: str, seconds: float
):
    """A crossfade longer than either neighbour is a MediaError saying so, before any work."""
    clips = [CutClip(src[first]), CutClip(src[second], Transition("crossfade", seconds))]
    with pytest.raises(MediaError, match=r"crossfade .* longer than .*tall\.mp4"):
        assemble(clips, out_dir / "film.mp4", FRAME)
    assert list(out_dir.iterdir()) == []


def test_crossfades_overlapping_inside_a_clip_are_refused(src: dict[str, Path], out_dir: Path):
    """A clip too short for its crossfades in and out together is a MediaError."""
    fade = Transition("crossfade", 0.6)
    clips = [CutClip(src["wide"]), CutClip(src["tall"], fade), CutClip(src["wide"], fade)]
    with pytest.raises(MediaError, match=r"tall\.mp4 lasts 1\.000 s, too short"):
        assemble(clips, out_dir / "film.mp4", FRAME)
    assert list(out_dir.iterdir()) == []


@pytest.mark.parametrize(
    "fmt", [FilmFormat(321, 180), FilmFormat(320, 180, fps=0), FilmFormat(0, 2)]
)
def test_unusable_format_is_refused(src: dict[str, Path], out_dir: Path, fmt: FilmFormat):
    """Odd or empty sizes (no yuv420p) and a zero fps are a MediaError, before any work."""
    with pytest.raises(MediaError, match="film"):
        assemble([CutClip(src["wide"])], out_dir / "film.mp4", fmt)
    assert list(out_dir.iterdir()) == []
