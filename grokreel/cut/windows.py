"""The only stretches of a film that are re-encoded at assembly: transitions and their bridges.

A window (crossfade, fade from or to black) is composited by MoviePy from the clips' frames, which
PyAV decodes in order (far cheaper than MoviePy's own ffmpeg readers), and piped into the film's
encoder. A bridge (plain frames from a transition's end to the clip's next keyframe, where copying
can resume) is re-encoded by ffmpeg directly, which is faster still. Each window opens only its own
clips and closes them before the next one starts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import MediaError
from .encoding import COLOUR_TAIL, TO_BT709, FilmFormat, feed_ffmpeg, run_ffmpeg, video_args
from .timeline import Effect, Window

if TYPE_CHECKING:
    from moviepy import VideoClip

__all__ = ["encode_bridge", "encode_frames", "encode_window"]


def encode_bridge(source: Path, first: int, count: int, dest: Path, fmt: FilmFormat) -> None:
    """Frames [first, first + count) of a normalized clip, re-encoded (no sound: see join)."""
    trim = f"trim=start_frame={first}:end_frame={first + count},setpts=PTS-STARTPTS,{COLOUR_TAIL}"
    run_ffmpeg(
        [
            "-i",
            str(source),
            "-vf",
            trim,
            "-frames:v",
            str(count),
            "-an",
            *video_args(fmt),
            str(dest),
        ],
        f"re-encode frames of {source.name}",
    )


def encode_window(window: Window, paths: list[Path], dest: Path, fmt: FilmFormat) -> None:
    """Composite the window's layers over black with MoviePy and encode it to ``dest``."""
    from moviepy import CompositeVideoClip, VideoClip

    sources = [_Frames(paths[layer.clip], layer.first, fmt.fps) for layer in window.layers]
    try:
        layers = [
            _with_effect(VideoClip(src.at, duration=layer.count / fmt.fps), layer.effect, fmt.fps)
            for src, layer in zip(sources, window.layers, strict=True)
        ]
        picture = CompositeVideoClip(layers, size=(fmt.width, fmt.height), bg_color=(0, 0, 0))
        frames = (picture.get_frame(j / fmt.fps) for j in range(window.frames))
        encode_frames(frames, window.frames, dest, fmt)
    finally:
        for source in sources:
            source.close()


class _Frames:
    """A clip's frames from ``first`` on, decoded in order by PyAV: one open file, one frame held.

    MoviePy asks for frames by time; windows ask in order, so decoding never goes back.
    """

    def __init__(self, path: Path, first: int, fps: int):
        import av

        self.path, self.first, self.fps = path, first, fps
        self.container = av.open(str(path))
        stream = self.container.streams.video[0]
        stream.thread_type = "AUTO"
        self.tick = float(stream.time_base or 0) * fps  # frames per pts unit
        if first:
            self.container.seek(int(first / self.tick), stream=stream, backward=True)
        self.decoded = self.container.decode(stream)
        self.index, self.image = -1, np.zeros((1, 1, 3), np.uint8)

    def at(self, t: float) -> np.ndarray:
        """The RGB frame shown ``t`` seconds after ``first``."""
        want = self.first + round(t * self.fps)
        while self.index < want:
            frame = next(self.decoded, None)
            if frame is None:
                raise MediaError(f"{self.path.name} has no frame {want}")
            self.index = round(frame.pts * self.tick) if frame.pts is not None else self.index + 1
            if self.index >= want:
                self.image = frame.to_ndarray(format="rgb24")
        return self.image

    def close(self) -> None:
        self.container.close()


def _with_effect(clip: VideoClip, effect: Effect | None, fps: int) -> VideoClip:
    from moviepy import vfx

    if effect is None:
        return clip
    seconds = effect.frames / fps
    made = {"crossfade_in": vfx.CrossFadeIn, "fade_in": vfx.FadeIn, "fade_out": vfx.FadeOut}
    return clip.with_effects([made[effect.kind](seconds)])


def encode_frames(frames: Iterable[np.ndarray], count: int, dest: Path, fmt: FilmFormat) -> None:
    """Pipe RGB frames into the film's encoder, converting to BT.709 YUV on the way."""
    raw = [
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "-s",
        f"{fmt.width}x{fmt.height}",
        "-framerate",
        str(fmt.fps),
        "-i",
        "pipe:0",
    ]
    feed_ffmpeg(
        [
            *raw,
            "-vf",
            f"scale={TO_BT709},{COLOUR_TAIL}",
            "-frames:v",
            str(count),
            *video_args(fmt),
            "-an",
            str(dest),
        ],
        _bytes(frames, fmt),
        "encode a transition",
    )


def _bytes(frames: Iterable[np.ndarray], fmt: FilmFormat) -> Iterator[bytes]:
    for frame in frames:
        if frame.shape[:2] != (fmt.height, fmt.width):
            raise MediaError(
                f"a transition frame is {frame.shape[1]}×{frame.shape[0]}, "
                f"not {fmt.width}×{fmt.height}"
            )
        pixels = frame if frame.dtype == np.uint8 else np.clip(np.rint(frame), 0, 255)
        yield np.ascontiguousarray(pixels[..., :3], dtype=np.uint8).tobytes()
