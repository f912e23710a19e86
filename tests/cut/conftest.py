"""Small real clips for the cut's tests (320×180, 1–2 s), made with the ffmpeg grokreel uses.

Sound is a sine whose phase continues from clip to clip (``first_sample``), so a film joined from
consecutive clips must reproduce one unbroken sine: any gap, overlap or shift at a join shows.
"""

from __future__ import annotations

import os
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import imageio_ffmpeg
import numpy as np
import pytest

from grokreel.cut import FilmFormat
from grokreel.cut.encoding import COLOUR_TAIL, video_args

FPS = 24
RATE = 48_000
FMT = FilmFormat(320, 180, FPS)
TONE = 440.0
AMPLITUDE = 0.125 * 0.5**0.5  # lavfi sine's level, upmixed from mono to stereo (-3 dB)


def make_clip(
    path: Path,
    seconds: float,
    *,
    video: str = "testsrc2",
    size: str = "320x180",
    fps: int = FPS,
    tone: bool = True,
    first_sample: int = 0,
    native: bool = True,
) -> Path:
    """A clip of ``seconds``; ``native`` encodes it exactly as the film is (joins by copy)."""
    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-y",
        "-loglevel",
        "error",
        "-f",
        "lavfi",
        "-i",
        f"{video}{':' if '=' in video else '='}size={size}:rate={fps}:duration={seconds}",
    ]
    if tone:
        end = first_sample + round(seconds * RATE)
        cmd += [
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency={TONE:g}:sample_rate={RATE},"
            f"atrim=start_sample={first_sample}:end_sample={end},asetpts=PTS-STARTPTS",
            "-ac",
            "2",
            "-c:a",
            "aac",
            "-b:a",
            "192k",
        ]
    if native:
        cmd += ["-vf", COLOUR_TAIL, *video_args(FilmFormat(*map(int, size.split("x")), fps))]
    else:
        cmd += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    subprocess.run([*cmd, str(path)], check=True)
    return path


def sine(first: int, count: int) -> np.ndarray:
    """The ideal tone over samples [first, first + count)."""
    return AMPLITUDE * np.sin(2 * np.pi * TONE * np.arange(first, first + count) / RATE)


def audio_of(path: Path) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """All decoded samples (channels × n) and each audio frame's (pts, samples) in 1/rate units."""
    with av.open(str(path)) as container:
        frames = list(container.decode(audio=0))
    assert frames and frames[0].time_base == Fraction(1, RATE)
    samples = np.concatenate([f.to_ndarray() for f in frames], axis=1)
    return samples, [(f.pts, f.samples) for f in frames]


def frame_at(path: Path, t: float) -> np.ndarray:
    """The RGB picture shown at ``t`` seconds (a real decode)."""
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if frame.time >= t - 1e-3:
                return frame.to_ndarray(format="rgb24").astype(int)
    raise AssertionError(f"no frame at {t} s in {path}")


def decode_all(path: Path) -> int:
    """Decode every video frame (a corrupt join raises here); return how many there were."""
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def rms(samples: np.ndarray, start: float, end: float) -> float:
    return float(np.sqrt(np.mean(samples[:, int(start * RATE) : int(end * RATE)] ** 2)))


def children() -> list[str]:
    """Live ffmpeg child processes of this test run (a leaked reader would show up here; other
    tests' helpers, such as a browser or a server, are not this module's business)."""
    me, kids = str(os.getpid()), []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            name, rest = stat.read_text().split("(", 1)[1].rsplit(")", 1)
        except (OSError, ValueError):
            continue
        fields = rest.split()
        if fields[1] == me and fields[0] != "Z" and "ffmpeg" in name:
            kids.append(stat.parent.name)
    return kids


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Named source clips shared by the cut's tests."""
    folder = tmp_path_factory.mktemp("clips")
    return {
        # three consecutive seconds of one tone: joined by hard cuts they must be one sine
        "s0": make_clip(folder / "s0.mp4", 1.0, first_sample=0),
        "s1": make_clip(folder / "s1.mp4", 1.0, first_sample=RATE),
        "s2": make_clip(folder / "s2.mp4", 2.0, first_sample=2 * RATE),
        "red": make_clip(folder / "red.mp4", 1.0, video="color=red", tone=False),
        "blue": make_clip(folder / "blue.mp4", 1.0, video="color=blue", tone=False),
        "tall": make_clip(
            folder / "tall.mp4", 1.0, video="color=red", size="180x320", native=False
        ),
        "foreign": make_clip(folder / "foreign.mp4", 1.5, size="640x360", fps=30, native=False),
        "black": make_clip(folder / "black.mp4", 2.0, video="color=black", tone=False),
    }
