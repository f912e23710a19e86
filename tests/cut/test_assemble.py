"""assemble on real files, checked with a real decoder (PyAV), never on the assembler's word."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from grokreel.cut import CutClip, FilmFormat, MusicBed, Transition, assemble
from grokreel.cut.encoding import inspect, reference
from grokreel.errors import MediaError
from grokreel.media.probe import probe

from .conftest import (
    AMPLITUDE,
    FMT,
    FPS,
    RATE,
    audio_of,
    children,
    decode_all,
    frame_at,
    make_clip,
    rms,
    sine,
)

XFADE, FADE = Transition("crossfade", 0.5), Transition("fade", 0.5)
BT709 = 1


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory):
    """Assemble into a fresh folder; the film and what assemble reported."""

    def make(clips: list[CutClip], fmt: FilmFormat = FMT, music: MusicBed | None = None):
        dest = tmp_path_factory.mktemp("film") / "film.mp4"
        return dest, assemble(clips, dest, fmt, music)

    return make


@pytest.fixture(scope="module")
def joined(clips: dict[str, Path], out):
    """s0 · s1 · s2: three consecutive pieces of one tone, hard cuts, all in the film's format."""
    return out([CutClip(clips["s0"]), CutClip(clips["s1"]), CutClip(clips["s2"])])


@pytest.fixture(scope="module")
def mixed(clips: dict[str, Path], out):
    """s0 [0, 1) · tall [1, 2) letterboxed · foreign [2, 3.5) converted, hard cuts."""
    return out([CutClip(clips["s0"]), CutClip(clips["tall"]), CutClip(clips["foreign"])])


@pytest.fixture(scope="module")
def faded(clips: dict[str, Path], out):
    """red fades in, crossfades (0.5 s) into blue, which dips to black into s2, which fades out."""
    return out(
        [
            CutClip(clips["red"], FADE),
            CutClip(clips["blue"], XFADE),
            CutClip(clips["s2"], FADE, fade_out=0.5),
        ]
    )


def test_hard_cuts_last_the_sum_of_the_clips_to_the_frame(joined):
    """Hard cuts: the film has exactly the clips' frames, and the sound exactly as long."""
    path, film = joined
    info = probe(path)
    assert info.num_frames == film.frames == 4 * FPS
    assert info.video_duration == pytest.approx(4.0, abs=1e-6)
    assert info.audio_duration == pytest.approx(4.0, abs=1e-3)
    assert decode_all(path) == 4 * FPS


def test_compatible_clips_are_copied_not_re_encoded(joined):
    """Clips in the film's format are joined by stream copy: no frame is re-encoded."""
    _, film = joined
    assert (film.copied_frames, film.encoded_frames) == (4 * FPS, 0)


def test_sound_is_continuous_across_joins(joined):
    """The three pieces play back as one unbroken sine: no gap, shift or click at a join."""
    path, _ = joined
    samples, frames = audio_of(path)
    assert samples.shape[1] >= 4 * RATE
    for (pts, count), (next_pts, _) in zip(frames, frames[1:], strict=False):
        assert next_pts == pts + count  # no hole in the timestamps
    for join in (RATE, 2 * RATE):
        near = slice(join - 2048, join + 2048)
        assert np.abs(samples[0, near] - sine(join - 2048, 4096)).max() < 0.02
        assert np.abs(np.diff(samples[0, near])).max() < 0.03  # a click would jump far more


def test_mixed_inputs_are_letterboxed_and_converted(mixed):
    """A vertical clip is pillarboxed and a 30 fps 640×360 clip is fitted, frame-exact."""
    path, film = mixed
    info = probe(path)
    assert (info.width, info.height, info.fps, info.num_frames) == (320, 180, FPS, 84)
    frame = frame_at(path, 1.5)
    assert frame[:, 115:205, 0].min() > 200 and frame[:, :100].max() < 20
    assert decode_all(path) == 84


def test_output_fps_and_aspect_are_the_films(clips, out):
    """A 30 fps vertical film: every clip is converted to its grid, frame- and sample-exact."""
    path, film = out(
        [CutClip(clips["s0"]), CutClip(clips["foreign"], XFADE)], FilmFormat(180, 320, 30)
    )
    info = probe(path)
    assert (info.width, info.height, info.fps) == (180, 320, 30)
    assert info.num_frames == film.frames == 30 + 45 - 15 == decode_all(path)
    assert info.audio_duration == pytest.approx(2.0, abs=1e-3)


def test_film_is_h264_yuv420p_tagged_bt709_with_aac_stereo(mixed):
    """The film keeps the one encoding and colour tags; sound is AAC 48 kHz stereo."""
    path, _ = mixed
    info = probe(path)
    assert (info.video_codec, info.pix_fmt) == ("h264", "yuv420p")
    assert (info.audio_codec, info.audio_rate, info.audio_channels) == ("aac", RATE, 2)
    with av.open(str(path)) as container:
        cc = container.streams.video[0].codec_context
        assert (cc.color_primaries, cc.color_trc, cc.colorspace) == (BT709, BT709, BT709)
    assert inspect(path, FPS).extradata == reference(FMT).extradata


def test_clip_without_sound_is_silent_in_its_span(mixed, clips, out):
    """A clip without sound contributes silence; the clips around it keep theirs."""
    path, _ = out([CutClip(clips["s0"]), CutClip(clips["red"]), CutClip(clips["s1"])])
    samples, _ = audio_of(path)
    assert rms(samples, 0.1, 0.9) > 0.05
    assert rms(samples, 1.02, 1.98) < 1e-3
    assert rms(samples, 2.1, 2.9) > 0.05


def test_crossfade_blends_pictures_and_shortens_the_film(faded):
    """Mid-crossfade the frame mixes red and blue; the film loses the overlap, not a frame more."""
    path, film = faded
    assert film.frames == probe(path).num_frames == 24 + 24 - 12 + 48
    red_to_blue = frame_at(path, 0.75)[90, 160]  # the overlap is [0.5, 1.0)
    assert 60 < red_to_blue[0] < 200 and 60 < red_to_blue[2] < 200
    assert decode_all(path) == film.frames


def test_fades_go_through_black(faded):
    """Fade in from black at the start, a dip to black between clips, a fade out at the end."""
    path, _ = faded
    assert frame_at(path, 0.0).max() < 40  # first frame: nearly black
    assert frame_at(path, 0.4)[90, 160, 0] > 150  # red is up
    assert frame_at(path, 1.45).max() < 60  # bottom of the dip, blue → s2
    assert frame_at(path, 3.45).mean() < 30  # the last frames
    assert frame_at(path, 2.5).mean() > 60


def test_only_the_transitions_are_re_encoded(clips, out):
    """Copying resumes at the keyframe right after a transition: the rest is stream-copied."""
    path, film = out([CutClip(clips["s2"]), CutClip(clips["s2"], XFADE)])
    # the film's encoder puts keyframes at 0.5 s and 1 s, so only the overlap is re-encoded
    assert film.encoded_frames == 12
    assert film.copied_frames == film.frames - film.encoded_frames == 96 - 12 - 12
    assert decode_all(path) == film.frames


def test_normalized_clips_resume_copying_right_after_a_short_crossfade(clips, out):
    """Normalized clips carry keyframes at 0.5 s and 1 s: such crossfades re-encode only
    themselves."""
    path, film = out([CutClip(clips["s2"]), CutClip(clips["foreign"], XFADE)])
    assert film.encoded_frames == 12
    assert decode_all(path) == film.frames == 48 + 36 - 12


def test_crossfade_does_not_sum_the_sounds(clips, out):
    """Overlapping sounds ramp out and in: never louder than either clip alone."""
    path, _ = out([CutClip(clips["s2"]), CutClip(clips["s0"], XFADE)])
    samples, _ = audio_of(path)
    alone = rms(samples, 0.2, 1.4)
    assert rms(samples, 1.55, 1.95) < 1.05 * alone


def test_mute_and_music_bed(clips, out, tmp_path_factory: pytest.TempPathFactory):
    """A muted clip is silent; music plays at its volume under all, faded in and out."""
    folder = tmp_path_factory.mktemp("music")
    music = make_clip(folder / "music.mp4", 1.0, first_sample=0)  # 1 s, looped
    bed = MusicBed(music, volume=0.5, fade_in=0.5, fade_out=0.5, loop=True)
    path, _ = out([CutClip(clips["s0"], mute=True), CutClip(clips["red"])], music=bed)
    samples, _ = audio_of(path)
    level = rms(samples, 0.6, 1.4)
    assert level == pytest.approx(0.5 * AMPLITUDE / np.sqrt(2), rel=0.05)  # the bed alone, halved
    assert rms(samples, 0.0, 0.1) < level / 3  # fading in
    assert rms(samples, 1.92, 2.0) < level / 3  # fading out


def test_subtitles_follow_the_clips(clips, out):
    """Captions become SubRip cues timed to their clips (split halfway through a crossfade)."""
    _, film = out(
        [CutClip(clips["s0"], caption="First"), CutClip(clips["s2"], XFADE, caption="Second line")]
    )
    assert film.srt == (
        "1\n00:00:00,000 --> 00:00:00,750\nFirst\n\n2\n00:00:00,750 --> 00:00:02,500\nSecond line\n"
    )


def test_no_reader_process_or_temp_file_is_left(faded):
    """Every reader is closed and nothing is left beside the film."""
    path, _ = faded
    assert children() == []
    assert [p.name for p in path.parent.iterdir()] == ["film.mp4"]


def test_missing_input_raises_and_writes_nothing(clips, tmp_path: Path):
    """A missing clip is a MediaError naming it; no film and no temp file are left behind."""
    with pytest.raises(MediaError, match="nope.mp4"):
        assemble([CutClip(clips["s0"]), CutClip(tmp_path / "nope.mp4")], tmp_path / "f.mp4", FMT)
    assert list(tmp_path.iterdir()) == []


def test_crossfade_longer_than_a_clip_is_refused(clips, tmp_path: Path):
    """A crossfade outlasting a neighbour is a MediaError naming it, and leaves nothing."""
    with pytest.raises(MediaError, match=r"longer than s0\.mp4"):
        assemble(
            [CutClip(clips["s0"]), CutClip(clips["s2"], Transition("crossfade", 1.2))],
            tmp_path / "f.mp4",
            FMT,
        )
    assert list(tmp_path.iterdir()) == []


def test_failed_join_leaves_nothing(clips, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """An ffmpeg failure mid-join is a MediaError; its partial files are removed."""
    from grokreel.cut import assembly as module

    def broken(*args: object, **kwargs: object) -> None:
        raise MediaError("cannot join the film: ffmpeg died")

    monkeypatch.setattr(module, "join", broken)
    with pytest.raises(MediaError, match="ffmpeg died"):
        assemble([CutClip(clips["s0"])], tmp_path / "f.mp4", FMT)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt", [FilmFormat(321, 180), FilmFormat(320, 180, fps=0)])
def test_unusable_format_is_refused(clips, tmp_path: Path, fmt: FilmFormat):
    """Odd sizes (no yuv420p) and a zero fps are a MediaError, before any work."""
    with pytest.raises(MediaError, match="film"):
        assemble([CutClip(clips["s0"])], tmp_path / "f.mp4", fmt)
    assert list(tmp_path.iterdir()) == []
