"""Clip QA after every render: what an editor would notice before the client does.

Each check returns a warning naming the shot, never an error: the API may return a clip of another
length (the cut uses the measured one), without sound, or with black or frozen stretches, and the
author decides whether to render another take. One decode pass of a small luma grid covers black and
frozen detection (thresholds follow ffmpeg's blackdetect and freezedetect).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..errors import MediaError
from ..media.probe import MediaInfo, probe

__all__ = ["clip_qa"]

BLACK_LUMA = 16 + 0.10 * 219  # limited range: a pixel this dark counts as black
BLACK_SHARE = 0.98  # a frame this much black is a black frame
FROZEN_DIFF = 0.25  # mean absolute luma change (0–255) below which two frames are the same
MIN_BLACK, MIN_FROZEN = 0.5, 1.0  # seconds a stretch must last to be reported
SILENT = 1e-4  # peak amplitude below which a sound track is silence


def clip_qa(path: Path, expected: float | None, shot: str) -> list[str]:
    """Warnings about the clip at ``path`` of shot ``shot`` (``expected``: seconds asked for)."""
    info = probe(path)
    warnings = _length(info, expected) + _sound(path, info)
    black, frozen = _stretches(path, info.fps or 24.0)
    warnings += [f"black picture from {a:.2f} s to {b:.2f} s" for a, b in black]
    warnings += [f"frozen picture from {a:.2f} s to {b:.2f} s" for a, b in frozen]
    return [f"shot `{shot}`: {w}" for w in warnings]


def _length(info: MediaInfo, expected: float | None) -> list[str]:
    if expected is None or abs(info.duration - expected) <= max(1 / (info.fps or 24), 0.05):
        return []
    return [
        f"lasts {info.duration:.3f} s where {expected:g} s were asked for; "
        f"the cut uses {info.duration:.3f} s"
    ]


def _sound(path: Path, info: MediaInfo) -> list[str]:
    if not info.has_audio:
        return ["no audio track: the cut plays silence under it"]
    out = []
    if info.audio_duration is not None and info.audio_duration < info.duration - 0.1:
        out.append(
            f"sound ends at {info.audio_duration:.2f} s, before the picture ({info.duration:.2f} s)"
        )
    if _peak(path) < SILENT:
        out.append("the audio track is silent")
    return out


def _peak(path: Path) -> float:
    import av

    peak = 0.0
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            peak = max(peak, float(np.abs(frame.to_ndarray()).max(initial=0.0)))
    return peak


def _stretches(path: Path, fps: float) -> tuple[list[tuple[float, float]], ...]:
    """Black and frozen stretches as (start, end) seconds."""
    black: list[bool] = []
    repeats: list[bool] = []  # repeats[i]: frame i + 1 looks like frame i
    previous = None
    for luma in _luma(path):
        black.append(float(np.mean(luma <= BLACK_LUMA)) >= BLACK_SHARE)
        if previous is not None:
            repeats.append(float(np.mean(np.abs(luma - previous))) < FROZEN_DIFF)
        previous = luma
    frozen = [(a, b + 1) for a, b in _runs(repeats, round(MIN_FROZEN * fps) - 1)]
    return _seconds(_runs(black, round(MIN_BLACK * fps)), fps), _seconds(frozen, fps)


def _luma(path: Path) -> Iterator[np.ndarray]:
    """Every frame's luma, every fourth pixel each way: plenty for these statistics."""
    import av

    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for frame in container.decode(stream):
                if frame.format.name not in ("yuv420p", "yuvj420p"):
                    frame = frame.reformat(format="gray")
                plane = frame.planes[0]
                rows = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)
                yield rows[: frame.height : 4, : frame.width : 4].astype(np.float32)
    except av.error.FFmpegError as exc:
        raise MediaError(f"cannot decode {path} for QA: {exc}") from exc


def _runs(flags: list[bool], minimum: int) -> list[tuple[int, int]]:
    """[start, end) index ranges where ``flags`` holds for at least ``minimum`` items."""
    runs, start = [], None
    for i, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            if i - start >= max(1, minimum):
                runs.append((start, i))
            start = None
    return runs


def _seconds(runs: list[tuple[int, int]], fps: float) -> list[tuple[float, float]]:
    return [(a / fps, b / fps) for a, b in runs]
