"""Assemble a film from normalized clips: copy what can be copied, re-encode only transitions.

The steps: read each clip's headers (a clip not yet in the film's format is normalized here, in the
scratch folder), lay the clips out on the frame grid, encode the transition windows one at a time,
then join everything by stream copy with the sound rebuilt sample by sample. The film is written
beside ``dest`` and moved into place only once it has been checked.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import MediaError
from .audio import MusicBed, Sound, film_audio
from .encoding import FilmFormat, StreamFacts, inspect, keyframes, same_video
from .join import Segment, join, verify
from .normalize import ClipSpec, normalize_clip
from .timeline import Bridge, Copy, CutClip, Piece, Timeline, Window
from .windows import encode_bridge, encode_window

__all__ = ["Film", "assemble"]


@dataclass(frozen=True)
class Film:
    """What was assembled: its length, how much was copied or re-encoded, and its subtitles."""

    frames: int
    seconds: float
    copied_frames: int
    encoded_frames: int
    srt: str


def assemble(
    clips: list[CutClip], dest: Path, fmt: FilmFormat, music: MusicBed | None = None
) -> Film:
    """Write the film to ``dest`` atomically; MediaError with the reason, leaving nothing behind."""
    dest = Path(dest)
    fmt.check()
    if not clips:
        raise MediaError(f"{dest}: nothing to assemble, the cut has no clips")
    for clip in clips:  # fail fast, before any temporary file exists
        if not Path(clip.path).is_file():
            raise MediaError(f"{clip.name}: no such clip {clip.path}")
    try:
        workdir = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
    except OSError as exc:
        raise MediaError(f"cannot write {dest}: {exc}") from exc
    try:
        film = _assemble(clips, fmt, music, workdir)
        os.replace(workdir / "film.mp4", dest)
        return film
    except MediaError:
        raise
    except Exception as exc:  # MoviePy and PyAV raise anything from OSError to IndexError
        raise MediaError(f"cannot assemble {dest}: {exc}") from exc
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _assemble(clips: list[CutClip], fmt: FilmFormat, music: MusicBed | None, workdir: Path) -> Film:
    paths, facts = _conformed(clips, fmt, workdir)
    timeline = Timeline(clips, [f.frames for f in facts], fmt.fps)
    frames = {i: keyframes(paths[i]) for i in timeline.heads_needing_keyframes()}
    segments = [
        _segment(piece, k, paths, facts, fmt, workdir)
        for k, piece in enumerate(timeline.pieces(frames))
    ]
    out = workdir / "film.mp4"
    sound = film_audio(_sounds(timeline, paths, fmt), fmt.samples(timeline.total), music)
    join(segments, sound, out, fmt, workdir)
    verify(out, timeline.total, fmt)
    copied = sum(s.count for s in segments if s.path in paths)
    return Film(timeline.total, timeline.seconds, copied, timeline.total - copied, timeline.srt())


def _conformed(
    clips: list[CutClip], fmt: FilmFormat, workdir: Path
) -> tuple[list[Path], list[StreamFacts]]:
    """Each clip's path and facts, normalizing here any clip not already in the film's format."""
    paths, facts = [], []
    for i, clip in enumerate(clips):
        path = Path(clip.path)
        fact = inspect(path, fmt.fps)
        if not _joinable(fact, fmt):
            path = workdir / f"clip{i}.mp4"
            normalize_clip(Path(clip.path), path, ClipSpec(fmt), workdir)
            fact = inspect(path, fmt.fps)
        paths.append(path)
        facts.append(fact)
    return paths, facts


def _joinable(fact: StreamFacts, fmt: FilmFormat) -> bool:
    """The film's encoding, and a length that is a whole number of frames of the grid."""
    return same_video(fact, fmt) and abs(fact.seconds - fact.frames / fmt.fps) < 0.25 / fmt.fps


def _segment(
    piece: Piece,
    k: int,
    paths: list[Path],
    facts: list[StreamFacts],
    fmt: FilmFormat,
    workdir: Path,
) -> Segment:
    """Copies point into their clip; windows and bridges are encoded into the scratch folder."""
    if isinstance(piece, Copy):
        fact = facts[piece.clip]
        return Segment(paths[piece.clip], fact.stream_id, piece.first, piece.count, fact.frames)
    dest = workdir / f"piece{k}.mp4"
    if isinstance(piece, Window):
        encode_window(piece, paths, dest, fmt)
        count = piece.frames
    else:
        assert isinstance(piece, Bridge)
        encode_bridge(paths[piece.clip], piece.first, piece.count, dest, fmt)
        count = piece.count
    return Segment(dest, inspect(dest, fmt.fps).stream_id, 0, count, count)


def _sounds(timeline: Timeline, paths: list[Path], fmt: FilmFormat) -> list[Sound]:
    """Each clip's sound on the film's sample grid, ramped where its picture fades or crossfades."""
    sounds = []
    for p, clip in zip(timeline.placed, timeline.clips, strict=True):
        start, end = fmt.samples(p.start), fmt.samples(p.end)
        ramp_in = fmt.samples(p.start + p.head) - start if p.head else 0
        ramp_out = end - fmt.samples(p.end - p.tail) if p.tail else 0
        sounds.append(
            Sound(paths[p.index], start, end - start, ramp_in, ramp_out, 0.0 if clip.mute else 1.0)
        )
    return sounds
