"""The final cut: fit every clip to the film frame, join with cuts or crossfades, write atomically.

The only module that knows MoviePy, so the engine can be swapped (an ffmpeg stream-copy join is
planned) behind `assemble` and `film_duration`. MoviePy is imported lazily: it is slow to import.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from .errors import MediaError
from .media.probe import MediaInfo, probe

if TYPE_CHECKING:
    from moviepy import AudioClip, VideoClip, VideoFileClip

__all__ = ["CutClip", "FilmFormat", "Transition", "assemble", "film_duration"]

AUDIO_RATE = 48_000
# MoviePy writes untagged BT.601; HD players assume BT.709, so convert and tag explicitly.
# ffmpeg 9 takes primaries/transfer from the frames and ignores -color_primaries/-color_trc:
# setparams tags the frames. format=yuv420p: MoviePy appends -pix_fmt yuva420p (x264 can't).
_BT709 = [
    "-vf", "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p,"
    "setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv",
    "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709",
    "-color_range", "tv",
]  # fmt: skip


@dataclass(frozen=True)
class Transition:
    """How the film enters a clip from the previous one."""

    kind: Literal["cut", "crossfade"] = "cut"
    duration: float = 0.0  # seconds of overlap for a crossfade

    @property
    def overlap(self) -> float:
        """Seconds the two clips share on screen (0 for a hard cut)."""
        return self.duration if self.kind == "crossfade" else 0.0


@dataclass(frozen=True)
class CutClip:
    """One clip of the film and the transition into it (ignored on the first clip)."""

    path: Path
    transition: Transition = Transition()


@dataclass(frozen=True)
class FilmFormat:
    """The output frame: every clip is scaled to it, letterboxed or centre-cropped."""

    width: int
    height: int
    fps: int = 24
    fit: Literal["letterbox", "crop"] = "letterbox"


def film_duration(durations: list[float], transitions: list[Transition]) -> float:
    """Expected length: sum of clip durations minus crossfade overlaps (transitions[0] ignored)."""
    return sum(durations) - sum(t.overlap for t in transitions[1:])


def assemble(clips: list[CutClip], dest: Path, fmt: FilmFormat) -> None:
    """Write the film to dest atomically (temp file in dest's dir + os.replace).

    Raises MediaError with the reason; on failure nothing is left at dest nor beside it.
    """
    dest = Path(dest)
    _check_format(fmt)
    if not clips:
        raise MediaError(f"{dest}: nothing to assemble, the cut has no clips")
    infos = [probe(clip.path) for clip in clips]  # fails fast, before any temp file exists
    _check_transitions(clips, infos)
    try:
        workdir = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
    except OSError as exc:
        raise MediaError(f"cannot write {dest}: {exc}") from exc
    try:
        film = workdir / "film.mp4"
        seconds = _frames(clips, infos, fmt) / fmt.fps
        _render(clips, infos, fmt, film, workdir)
        _verify(film, seconds, fmt)
        os.replace(film, dest)
    except MediaError:
        raise
    except Exception as exc:  # MoviePy raises anything from OSError to IndexError
        raise MediaError(f"cannot assemble {dest}: {exc}") from exc
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _check_format(fmt: FilmFormat) -> None:
    """H.264 yuv420p needs even, positive sizes; MoviePy needs a positive fps."""
    if fmt.width <= 0 or fmt.height <= 0 or fmt.width % 2 or fmt.height % 2:
        raise MediaError(f"film size {fmt.width}×{fmt.height} must be positive and even")
    if fmt.fps <= 0:
        raise MediaError(f"film fps {fmt.fps} must be positive")
    if fmt.fit not in ("letterbox", "crop"):
        raise MediaError(f"unknown fit {fmt.fit!r}: use 'letterbox' or 'crop'")


def _check_transitions(clips: list[CutClip], infos: list[MediaInfo]) -> None:
    """A crossfade cannot outlast either neighbour, nor overlap the next crossfade in its clip."""
    for i, clip in enumerate(clips[1:], start=1):
        t = clip.transition
        if t.kind not in ("cut", "crossfade"):
            raise MediaError(f"{clip.path}: unknown transition {t.kind!r} (cut or crossfade)")
        if t.kind == "crossfade" and t.duration <= 0:
            raise MediaError(f"{clip.path}: a crossfade needs a duration > 0, got {t.duration}")
        for j in (i - 1, i):
            if t.overlap > infos[j].duration:
                raise MediaError(
                    f"crossfade into {clip.path} lasts {t.overlap:g} s, longer than "
                    f"{clips[j].path} ({infos[j].duration:.3f} s)"
                )
    for i, info in enumerate(infos):
        fades = _overlap_in(clips, i) + _overlap_in(clips, i + 1)
        if fades > info.duration:
            raise MediaError(
                f"{clips[i].path} lasts {info.duration:.3f} s, too short for its crossfades "
                f"in and out ({fades:g} s together)"
            )


def _overlap_in(clips: list[CutClip], i: int) -> float:
    """Crossfade seconds into clip i; none into the first clip nor past the last."""
    return clips[i].transition.overlap if 0 < i < len(clips) else 0.0


def _frames(clips: list[CutClip], infos: list[MediaInfo], fmt: FilmFormat) -> int:
    """The film's length in whole frames: constant fps means it snaps to the frame grid."""
    seconds = film_duration([i.duration for i in infos], [c.transition for c in clips])
    return max(1, round(seconds * fmt.fps))


def _starts(clips: list[CutClip], infos: list[MediaInfo]) -> list[float]:
    """Where each clip begins on the film's timeline."""
    steps = [info.duration - _overlap_in(clips, i + 1) for i, info in enumerate(infos)]
    return [0.0, *accumulate(steps[:-1])]


def _render(
    clips: list[CutClip], infos: list[MediaInfo], fmt: FilmFormat, out: Path, workdir: Path
) -> None:
    """Fit every clip to the frame, join them, lay the sound over a silent bed and encode."""
    from moviepy import CompositeAudioClip, VideoFileClip, concatenate_videoclips

    # A hair over whole frames: MoviePy writes int(duration * fps) frames.
    seconds = _frames(clips, infos, fmt) / fmt.fps + 1e-6
    sources: list[VideoFileClip] = []
    try:
        layers, sounds = [], [_silence(seconds)]
        for i, start in enumerate(_starts(clips, infos)):
            size = _scaled_size(infos[i], fmt)
            src = VideoFileClip(str(clips[i].path), target_resolution=size, audio_fps=AUDIO_RATE)
            sources.append(src)
            layers.append(_video_layer(src, infos[i], fmt))
            if src.audio is not None:
                fades = _overlap_in(clips, i), _overlap_in(clips, i + 1)
                sounds.append(_audio_layer(src.audio, infos[i], *fades).with_start(start))
        # Safe with "chain" only because every segment is now exactly the film's size.
        picture = concatenate_videoclips(_segments(clips, layers, fmt), method="chain")
        film = picture.with_duration(seconds).with_audio(
            CompositeAudioClip(sounds).with_duration(seconds)
        )
        film.write_videofile(
            str(out),
            fps=fmt.fps,
            codec="libx264",
            preset="ultrafast",
            audio_codec="aac",
            audio_fps=AUDIO_RATE,
            temp_audiofile=str(workdir / "audio.m4a"),
            ffmpeg_params=_BT709,
            logger=None,
        )
    finally:
        for src in sources:  # each holds two ffmpeg reader processes until closed
            src.close()


def _segments(clips: list[CutClip], layers: list[VideoClip], fmt: FilmFormat) -> list[VideoClip]:
    """Solo stretches and crossfades in film order; only crossfades are composed (2× slower)."""
    from moviepy import CompositeVideoClip, vfx

    segments = []
    for i, layer in enumerate(layers):
        fade_in, fade_out = _overlap_in(clips, i), _overlap_in(clips, i + 1)
        if fade_in:
            tail = layers[i - 1].subclipped(layers[i - 1].duration - fade_in)
            head = layer.subclipped(0, fade_in).with_effects([vfx.CrossFadeIn(fade_in)])
            size = (fmt.width, fmt.height)
            segments.append(CompositeVideoClip([tail, head], size=size, bg_color=(0, 0, 0)))
        if layer.duration - fade_out > fade_in:
            segments.append(layer.subclipped(fade_in, layer.duration - fade_out))
    return segments


def _scaled_size(info: MediaInfo, fmt: FilmFormat) -> tuple[int, int] | None:
    """Size ffmpeg scales the clip to while decoding (cheap): fit inside or cover the frame."""
    pick = min if fmt.fit == "letterbox" else max
    scale = pick(fmt.width / info.width, fmt.height / info.height)
    w, h = max(1, round(info.width * scale)), max(1, round(info.height * scale))
    if fmt.fit == "letterbox":
        w, h = min(w, fmt.width), min(h, fmt.height)
    else:
        w, h = max(w, fmt.width), max(h, fmt.height)
    return None if (w, h) == (info.width, info.height) else (w, h)


def _video_layer(src: VideoFileClip, info: MediaInfo, fmt: FilmFormat) -> VideoClip:
    """The clip as full frames of the film's size, so crossfades also fade the bars."""
    layer = src.without_audio().with_duration(info.duration)
    if tuple(src.size) == (fmt.width, fmt.height):
        return layer
    layer = layer.image_transform(_centre(tuple(src.size), (fmt.width, fmt.height)))
    layer.size = (fmt.width, fmt.height)  # image_transform keeps the source's size otherwise
    return layer


def _centre(size: tuple[int, int], frame: tuple[int, int]) -> Callable[[np.ndarray], np.ndarray]:
    """A function placing a `size` image centred in a black `frame`: pads or crops per axis."""
    (src_x, dst_x), (src_y, dst_y) = (_spans(s, f) for s, f in zip(size, frame, strict=True))

    def place(image: np.ndarray) -> np.ndarray:
        canvas = np.zeros((frame[1], frame[0], 3), dtype=np.uint8)
        canvas[dst_y, dst_x] = image[src_y, src_x, :3]
        return canvas

    return place


def _spans(size: int, frame: int) -> tuple[slice, slice]:
    """Source and destination slices centring `size` pixels in `frame` pixels."""
    offset = (frame - size) // 2
    if offset >= 0:
        return slice(0, size), slice(offset, offset + size)
    return slice(-offset, -offset + frame), slice(0, frame)


def _audio_layer(audio: AudioClip, info: MediaInfo, fade_in: float, fade_out: float) -> AudioClip:
    """The clip's sound cut to its picture, faded where it crossfades (not summed at full level)."""
    from moviepy import afx

    length = min(info.audio_duration or info.duration, info.duration)
    effects = [afx.AudioFadeIn(fade_in)] if fade_in else []
    effects += [afx.AudioFadeOut(fade_out)] if fade_out else []
    return audio.with_duration(length).with_effects(effects)


def _silence(seconds: float) -> AudioClip:
    """A stereo silent bed under the whole film: clips without sound leave no gap."""
    from moviepy import AudioClip

    def zeros(t: float | np.ndarray) -> np.ndarray:
        return np.zeros((len(t), 2) if np.ndim(t) else 2)

    return AudioClip(zeros, duration=seconds, fps=AUDIO_RATE)


def _verify(path: Path, seconds: float, fmt: FilmFormat) -> None:
    """Catch silent garbage (MoviePy can write short or mis-sized films without an error)."""
    info = probe(path)
    problems = []
    if (info.width, info.height) != (fmt.width, fmt.height):
        problems.append(f"size {info.width}×{info.height}, expected {fmt.width}×{fmt.height}")
    if abs(info.video_duration - seconds) > 1 / fmt.fps:
        problems.append(f"video {info.video_duration:.3f} s, expected {seconds:.3f} s")
    if (info.video_codec, info.pix_fmt, info.audio_codec) != ("h264", "yuv420p", "aac"):
        problems.append(f"streams {info.video_codec}/{info.pix_fmt}/{info.audio_codec}")
    if info.audio_duration is None or abs(info.audio_duration - info.video_duration) > 0.05:
        problems.append(f"audio {info.audio_duration} s against video {info.video_duration:.3f} s")
    if problems:
        raise MediaError(f"the cut came out wrong: {'; '.join(problems)}")
