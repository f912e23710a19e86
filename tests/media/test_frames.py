"""grab_frame: first, last and timed frames of real clips, saved as PNG."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from grokreel.errors import MediaError
from grokreel.media.animatic import render_text
from grokreel.media.frames import grab_frame


def grey_clip(path: Path, frames: int, audio_seconds: float) -> Path:
    """A 24 fps 160x96 clip whose frame i is grey level 8 * i, with ``audio_seconds`` of audio
    (longer than the video when asked, as some generated clips are)."""
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=24, options={"preset": "ultrafast", "qp": "0"})
        video.width, video.height, video.pix_fmt = 160, 96, "yuv420p"
        sound = out.add_stream("aac", rate=48_000, layout="stereo")
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(np.full((96, 160, 3), 8 * i, np.uint8), "rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 24)
            out.mux(video.encode(frame))
        samples = np.zeros((2, round(audio_seconds * 48_000)), np.float32)
        chunk = av.AudioFrame.from_ndarray(samples, format="fltp", layout="stereo")
        chunk.sample_rate, chunk.pts, chunk.time_base = 48_000, 0, Fraction(1, 48_000)
        out.mux(sound.encode(chunk))
        out.mux(video.encode(None))
        out.mux(sound.encode(None))
    return path


@pytest.fixture(scope="module")
def moving(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2 s 320x180 animatic text shot: its background pans, so first != last."""
    path = tmp_path_factory.mktemp("moving") / "moving.mp4"
    render_text(path, prompt="grab me", width=320, height=180, duration=2.0, seed="s")
    return path


@pytest.fixture(scope="module")
def greys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1 s clip of 24 distinct greys whose audio runs 0.75 s longer than its video."""
    return grey_clip(tmp_path_factory.mktemp("greys") / "greys.mp4", 24, 1.75)


def grab(video: Path, folder: Path, at: str | float) -> np.ndarray:
    """Grab ``at`` into a PNG and read it back as RGB, checking it really is a PNG."""
    dest = folder / f"grab-{at}.png"
    grab_frame(video, dest, at)
    with Image.open(dest) as picture:
        assert picture.format == "PNG"
        return np.asarray(picture.convert("RGB"))


def decoded(video: Path) -> list[np.ndarray]:
    """Every frame of ``video`` as RGB, decoded from the start by PyAV."""
    with av.open(str(video)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def grey(picture: np.ndarray) -> float:
    return float(picture.mean())


@pytest.mark.parametrize("at", ["first", "last", 1.0])
def test_grab_writes_png_of_video_size(at: str | float, moving: Path, tmp_path: Path) -> None:
    """first, last and a time each give a PNG of the video's size, with no partial file left."""
    assert grab(moving, tmp_path, at).shape == (180, 320, 3)
    assert [p.name for p in tmp_path.iterdir()] == [f"grab-{at}.png"]


def test_first_and_last_match_the_decoded_frames(moving: Path, tmp_path: Path) -> None:
    """first and last are exactly the first and last frames a full decode yields, and differ."""
    frames = decoded(moving)
    first, last = grab(moving, tmp_path, "first"), grab(moving, tmp_path, "last")
    assert np.array_equal(first, frames[0]) and np.array_equal(last, frames[-1])
    assert np.abs(first.astype(int) - last.astype(int)).mean() > 5


@pytest.mark.parametrize(("at", "index"), [(0.0, 0), (0.5, 12), (0.52, 12), (0.99, 23), (1.0, 23)])
def test_time_grabs_the_frame_shown_then(
    at: float, index: int, greys: Path, tmp_path: Path
) -> None:
    """A time in seconds grabs the frame on screen at that moment (the end gives the last)."""
    assert grey(grab(greys, tmp_path, at)) == pytest.approx(8 * index, abs=2)


def test_last_uses_the_video_stream_end(greys: Path, tmp_path: Path) -> None:
    """last is the final video frame even when the audio runs on past it."""
    assert grey(grab(greys, tmp_path, "last")) == pytest.approx(8 * 23, abs=2)


def test_grab_is_deterministic(moving: Path, tmp_path: Path) -> None:
    """Grabbing the same frame twice writes identical PNG bytes."""
    grab_frame(moving, tmp_path / "a.png", "last")
    grab_frame(moving, tmp_path / "b.png", "last")
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()


@pytest.mark.parametrize("at", [1.2, -0.1])
def test_time_outside_the_clip_names_its_length(at: float, greys: Path, tmp_path: Path) -> None:
    """A time outside the clip is a MediaError that says how long the clip is."""
    with pytest.raises(MediaError, match=r"1\.000 s long"):
        grab_frame(greys, tmp_path / "x.png", at)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("at", ["middle", "", None])
def test_unknown_position_is_a_media_error(at: object, greys: Path, tmp_path: Path) -> None:
    """Anything but "first", "last" or a number is refused."""
    with pytest.raises(MediaError, match="first"):
        grab_frame(greys, tmp_path / "x.png", at)  # type: ignore[arg-type]


def test_unreadable_video_is_a_media_error(tmp_path: Path) -> None:
    """A missing or non-video file is a MediaError and leaves no PNG behind."""
    (tmp_path / "fake.mp4").write_text("not a video")
    for video in (tmp_path / "missing.mp4", tmp_path / "fake.mp4"):
        with pytest.raises(MediaError, match=video.name):
            grab_frame(video, tmp_path / "x.png", "first")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fake.mp4"]
