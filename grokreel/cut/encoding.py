"""The film's one encoding, and the facts of a file that decide whether it already has it.

Every video segment of a film (normalized clips, transition windows, bridges) is encoded with the
same x264 settings, so the concat demuxer can join them with ``-c:v copy``: H.264 streams are only
concatenable when their SPS/PPS (the ``extradata``) are byte-identical. The settings match the
offline animatic's encoder (x264 ultrafast, CRF 23, 2 threads, GOP of 2 s, BT.709, no SAR), so an
animatic clip at the film's size joins without being re-encoded. Fixed thread counts keep the
output byte-identical from run to run.
"""

from __future__ import annotations

import subprocess
import tempfile
import threading
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ..errors import MediaError

if TYPE_CHECKING:
    from av.audio.stream import AudioStream
    from av.container import InputContainer
    from av.video.stream import VideoStream

__all__ = [
    "AUDIO_ARGS",
    "AUDIO_RATE",
    "COLOUR_TAIL",
    "ENGINE",
    "FilmFormat",
    "StreamFacts",
    "feed_ffmpeg",
    "ffmpeg",
    "inspect",
    "keyframes",
    "reference",
    "run_ffmpeg",
    "same_video",
    "video_args",
]

#: Bump when any setting below changes: it is part of every normalize and cut job's cache key.
ENGINE = "x264-ultrafast-crf23-2"
AUDIO_RATE = 48_000
AUDIO_ARGS = ["-c:a", "aac", "-b:a", "192k", "-ar", str(AUDIO_RATE), "-ac", "2"]
#: Tag BT.709 on the frames themselves: ffmpeg takes primaries/transfer from the frames, and x264
#: writes them into the SPS. setsar=0 leaves the aspect ratio unset, as the animatic does.
COLOUR_TAIL = (
    "format=yuv420p,setsar=0,"
    "setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv"
)
TO_BT709 = "out_color_matrix=bt709:out_range=tv"


@dataclass(frozen=True)
class FilmFormat:
    """The output frame: every clip is scaled to it, letterboxed or centre-cropped."""

    width: int
    height: int
    fps: int = 24
    fit: Literal["letterbox", "crop"] = "letterbox"

    def check(self) -> None:
        """H.264 yuv420p needs even, positive sizes; the frame grid needs a positive fps."""
        if self.width <= 0 or self.height <= 0 or self.width % 2 or self.height % 2:
            raise MediaError(f"film size {self.width}×{self.height} must be positive and even")
        if self.fps <= 0:
            raise MediaError(f"film fps {self.fps} must be positive")
        if self.fit not in ("letterbox", "crop"):
            raise MediaError(f"unknown fit {self.fit!r}: use 'letterbox' or 'crop'")

    def samples(self, frames: int) -> int:
        """Audio samples from the film's start to frame ``frames`` (exact on the frame grid)."""
        return (frames * AUDIO_RATE + self.fps // 2) // self.fps


def video_args(fmt: FilmFormat) -> list[str]:
    """The encoder half of an ffmpeg command line; identical for every segment of a film."""
    return [
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-crf",
        "23",
        "-g",
        str(2 * fmt.fps),
        # Extra keyframes where crossfades of 0.5 s and 1 s end: the join resumes copying right
        # there, so such a transition re-encodes only its own frames (see timeline.Bridge).
        "-force_key_frames",
        "0.5,1",
        "-threads",
        "2",
        "-pix_fmt",
        "yuv420p",
        "-r",
        str(fmt.fps),
        "-colorspace",
        "bt709",
        "-color_primaries",
        "bt709",
        "-color_trc",
        "bt709",
        "-color_range",
        "tv",
    ]


def ffmpeg() -> str:
    """The ffmpeg that imageio-ffmpeg ships (no system ffmpeg or ffprobe is assumed)."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def run_ffmpeg(args: list[str], what: str) -> None:
    """Run ffmpeg quietly; a failure is a MediaError quoting the end of its message."""
    cmd = [ffmpeg(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args]
    proc = subprocess.run(cmd, capture_output=True, check=False)
    if proc.returncode != 0:
        raise MediaError(f"cannot {what}: {_tail(proc.stderr)}")


def feed_ffmpeg(args: list[str], chunks: Iterable[bytes], what: str) -> None:
    """Run ffmpeg writing ``chunks`` to its stdin (``pipe:0``); MediaError when it fails.

    Its messages go to a temporary file, so a chatty ffmpeg can never block the writer.
    """
    cmd = [ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", *args]
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=log)
        assert proc.stdin is not None
        try:
            for chunk in chunks:
                proc.stdin.write(chunk)
        except BrokenPipeError:
            pass  # ffmpeg stopped reading: its message says why
        except BaseException:
            proc.kill()
            raise
        finally:
            with suppress(BrokenPipeError):
                proc.stdin.close()
            code = proc.wait()
        if code:
            log.seek(0)
            raise MediaError(f"cannot {what}: {_tail(log.read())}")


def _tail(stderr: bytes) -> str:
    lines = stderr.decode(errors="replace").strip().splitlines()
    return " / ".join(lines[-3:]) or "ffmpeg failed without a message"


@dataclass(frozen=True)
class StreamFacts:
    """What decides whether a file's video can be joined by stream copy, read from its headers."""

    frames: int
    seconds: float  # the video stream's own length
    stream_id: int  # the MP4 track id, for the concat demuxer's exact_stream_id
    extradata: bytes
    time_base: str
    regular: bool  # constant frame rate on the film's grid, starting at 0
    has_audio: bool
    audio_ok: bool  # AAC, 48 kHz, stereo, as long as the video within one AAC frame


def inspect(path: Path, fps: int, *, scan: bool = False) -> StreamFacts:
    """Read ``path``'s headers (and with ``scan``, every video packet's timestamp: still cheap)."""
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise MediaError(f"{path}: no video stream")
            video = container.streams.video[0]
            audio = container.streams.audio[0] if container.streams.audio else None
            frames = video.frames or sum(1 for p in container.demux(video) if p.size)
            regular = _regular(container, video, fps) if scan else True
            seconds = (
                float(video.duration * video.time_base)
                if video.duration and video.time_base
                else frames / fps
            )
            extradata = bytes(video.codec_context.extradata or b"")
            return StreamFacts(
                frames,
                seconds,
                video.id,
                extradata,
                str(video.time_base),
                regular,
                audio is not None,
                _audio_ok(audio, frames / fps),
            )
    except (av.error.FFmpegError, OSError) as exc:
        raise MediaError(f"cannot read video {path}: {exc}") from exc


def _regular(container: InputContainer, video: VideoStream, fps: int) -> bool:
    """Each frame exactly 1/fps after the one before, from 0: what a copy onto the grid needs."""
    step = 1 / (fps * float(video.time_base or 1))
    stamps = sorted(p.pts for p in container.demux(video) if p.size and p.pts is not None)
    return all(abs(pts - i * step) < 0.5 for i, pts in enumerate(stamps))


def _audio_ok(audio: AudioStream | None, seconds: float) -> bool:
    if audio is None:
        return False
    cc = audio.codec_context
    duration = float(audio.duration * audio.time_base) if audio.duration and audio.time_base else 0
    return (cc.name, cc.sample_rate, cc.channels) == ("aac", AUDIO_RATE, 2) and abs(
        duration - seconds
    ) <= 1024 / AUDIO_RATE + 1e-3


def keyframes(path: Path) -> list[int]:
    """Indexes of the frames a stream copy may start at (no B-frames: index = packet order)."""
    import av

    with av.open(str(path)) as container:
        video = container.streams.video[0]
        packets = [p for p in container.demux(video) if p.size]
    packets.sort(key=lambda p: p.pts)
    return [i for i, p in enumerate(packets) if p.is_keyframe]


def same_video(facts: StreamFacts, fmt: FilmFormat) -> bool:
    """Whether ``facts``' video can be joined by copy into a film of ``fmt``: the same encoder
    headers, time base and track as our own encode of that format."""
    ref = reference(fmt)
    return (facts.extradata, facts.time_base, facts.stream_id) == (
        ref.extradata,
        ref.time_base,
        ref.stream_id,
    )


_REFERENCE_LOCK = threading.Lock()


def reference(fmt: FilmFormat) -> StreamFacts:
    """The headers our encoder writes for this format: a file with the same ones joins by copy.

    Computed once per format and process (jobs normalizing in parallel threads wait for it).
    """
    with _REFERENCE_LOCK:
        return _reference(fmt)


@lru_cache(maxsize=8)
def _reference(fmt: FilmFormat) -> StreamFacts:
    with tempfile.TemporaryDirectory(prefix="grokreel-ref-") as tmp:
        dest = Path(tmp) / "ref.mp4"
        source = f"color=c=black:size={fmt.width}x{fmt.height}:rate={fmt.fps}"
        run_ffmpeg(
            [
                "-f",
                "lavfi",
                "-i",
                source,
                "-frames:v",
                "2",
                "-vf",
                COLOUR_TAIL,
                *video_args(fmt),
                str(dest),
            ],
            "probe the film's encoder",
        )
        return inspect(dest, fmt.fps)
