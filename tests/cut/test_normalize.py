"""normalize_clip on real files: the cheapest faithful way into the film's format, every time."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from grokreel.cut import Card, ClipSpec, FilmFormat, Overlay, normalize_clip
from grokreel.cut.encoding import inspect, reference
from grokreel.errors import MediaError
from grokreel.media.probe import probe

from .conftest import FMT, FPS, RATE, frame_at

BT709 = 1  # AVCOL_PRI_BT709 == AVCOL_TRC_BT709 == AVCOL_SPC_BT709


@pytest.fixture
def norm(tmp_path: Path):
    def run(source: Path | None, spec: ClipSpec | None = None) -> tuple[Path, dict]:
        dest = tmp_path / f"n{len(list(tmp_path.glob('n*.mp4')))}.mp4"
        return dest, normalize_clip(source, dest, spec or ClipSpec(FMT), tmp_path)

    return run


def test_clip_in_the_films_format_is_used_as_is(clips: dict[str, Path], norm):
    """A clip already encoded like the film is linked: the very same bytes, no re-encode."""
    dest, done = norm(clips["s0"])
    assert done == {"method": "link", "frames": FPS}
    assert dest.read_bytes() == clips["s0"].read_bytes()


def test_silent_native_clip_gets_a_silent_track_without_re_encoding(clips, norm):
    """A native clip without sound keeps its picture bytes and gains exact silence, as PCM: the
    film's join decodes it anyway, and encoding AAC here only cost time."""
    dest, done = norm(clips["red"])
    assert done["method"] == "remux"
    info = probe(dest)
    assert info.audio_duration == pytest.approx(1.0, abs=1e-3)
    assert (info.audio_codec, info.audio_rate, info.audio_channels) == ("pcm_s16le", RATE, 2)
    with av.open(str(dest)) as a, av.open(str(clips["red"])) as b:
        packets = [bytes(p) for p in a.demux(video=0) if p.size]
        assert packets == [bytes(p) for p in b.demux(video=0) if p.size]


def test_foreign_clip_is_converted_to_the_films_format(clips, norm):
    """Another size, frame rate and sound rate: re-encoded to the film's exact format."""
    dest, done = norm(clips["foreign"])
    info, facts = probe(dest), inspect(dest, FPS, scan=True)
    assert done == {"method": "encode", "frames": 36}
    assert (info.width, info.height, info.fps, info.num_frames) == (320, 180, FPS, 36)
    assert info.audio_duration == pytest.approx(1.5, abs=1e-3)
    assert facts.extradata == reference(FMT).extradata and facts.regular


def test_every_result_is_tagged_bt709(clips, norm):
    """Primaries, transfer and matrix are BT.709 on every path, so players keep the colours."""
    for source in ("s0", "red", "foreign", "tall"):
        dest, _ = norm(clips[source])
        with av.open(str(dest)) as container:
            cc = container.streams.video[0].codec_context
            assert (cc.color_primaries, cc.color_trc, cc.colorspace) == (BT709, BT709, BT709)


def test_vertical_clip_is_pillarboxed(clips, norm):
    """Letterbox: a 9:16 clip is scaled to the frame's height, centred between black bars."""
    dest, _ = norm(clips["tall"])
    frame = frame_at(dest, 0.5)
    band = frame[:, 115:205]  # the red picture: 101 px wide, centred at 160
    assert band[..., 0].min() > 200 and band[..., 1:].max() < 60
    for bar in (frame[:, :100], frame[:, 220:]):
        assert bar.max() < 20


def test_crop_fills_the_frame(clips, norm):
    """Crop: the 9:16 clip covers the whole 16:9 frame, no bars anywhere."""
    dest, _ = norm(clips["tall"], ClipSpec(FilmFormat(320, 180, FPS, "crop")))
    frame = frame_at(dest, 0.5)
    assert frame[..., 0].min() > 200 and frame[..., 1:].max() < 60


def test_trim_keeps_exactly_the_frames_asked_for(clips, norm):
    """`in`/`out` cut on the frame grid; the sound is cut at the same samples."""
    dest, done = norm(clips["s2"], ClipSpec(FMT, trim_in=0.5, trim_out=1.25))
    info = probe(dest)
    assert done == {"method": "encode", "frames": 18}
    assert info.num_frames == 18 and info.audio_duration == pytest.approx(0.75, abs=1e-3)


def test_trimming_only_the_end_copies_the_picture(clips, norm):
    """An `out` alone keeps the start on a keyframe: the picture is copied, not re-encoded."""
    _, done = norm(clips["s2"], ClipSpec(FMT, trim_out=1.5))
    assert done == {"method": "remux", "frames": 36}


def test_title_is_drawn_for_its_time_only(clips, norm):
    """A title over a clip shows from its start for its duration, then the clip is clean."""
    spec = ClipSpec(FMT, overlays=(Overlay("TITLE", "title", 0.0, 0.5, "white"),))
    dest, _ = norm(clips["red"], spec)
    centre = (slice(70, 110), slice(110, 210))
    assert frame_at(dest, 0.25)[centre][..., 1].max() > 200  # white letters on red
    assert frame_at(dest, 0.75)[centre][..., 1].max() < 60  # red only


def test_card_is_its_colour_with_centred_text(norm):
    """A title card is a plain colour for its duration, with silence under it, in AAC: unlike a
    shot's normalized clip, a card is handed to editors by the OpenTimelineIO export."""
    spec = ClipSpec(FMT, overlays=(Overlay("Chapter"),), card=Card(1.5, "#1b2a49"))
    dest, done = norm(None, spec)
    frame, info = frame_at(dest, 0.5), probe(dest)
    assert done["frames"] == 36 and info.audio_duration == pytest.approx(1.5, abs=1e-3)
    assert info.audio_codec == "aac"
    assert abs(frame[5, 5] - [0x1B, 0x2A, 0x49]).max() < 6
    assert frame[70:110, 100:220].max() > 200


def test_normalizing_twice_gives_identical_bytes(clips, norm):
    """Fixed encoder threads make normalization deterministic (lock-file rebuilds compare)."""
    spec = ClipSpec(FMT, overlays=(Overlay("caption text", "caption"),))
    first, _ = norm(clips["foreign"], spec)
    second, _ = norm(clips["foreign"], spec)
    assert first.read_bytes() == second.read_bytes()


def test_trim_past_the_end_is_refused(clips, norm):
    """Trimming away the whole clip is a MediaError naming it."""
    with pytest.raises(MediaError, match="s0.mp4"):
        norm(clips["s0"], ClipSpec(FMT, trim_in=2.0))
