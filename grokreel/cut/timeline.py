"""Where every clip sits in the film, on its frame grid: pure arithmetic, no media is touched.

A film is a row of clips. A crossfade overlaps two neighbours; a fade (to or from black) darkens one
clip's own head or tail and overlaps nothing. From the clips' measured lengths the timeline derives
each clip's start, the windows that must be re-encoded (the transitions, and from the end of a
transition to the next keyframe), the stretches copied as they are, and the subtitle cues.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..errors import MediaError

__all__ = [
    "Bridge",
    "Copy",
    "CutClip",
    "Effect",
    "Layer",
    "Placed",
    "Timeline",
    "Transition",
    "Window",
    "film_duration",
    "srt_time",
]

TransitionKind = Literal["cut", "crossfade", "fade"]
Edge = Literal["none", "crossfade", "fade"]


@dataclass(frozen=True)
class Transition:
    """How the film enters a clip: a hard cut, a crossfade, or a fade through black.

    A fade into the first clip fades the film in from black; between two clips it is a dip: the
    first half darkens the clip before, the second half brings up this one.
    """

    kind: TransitionKind = "cut"
    duration: float = 0.0

    @property
    def overlap(self) -> float:
        """Seconds the two clips share on screen (only a crossfade overlaps them)."""
        return self.duration if self.kind == "crossfade" else 0.0


@dataclass(frozen=True)
class CutClip:
    """One clip of the film (already normalized) and how it is edited in."""

    path: Path
    transition: Transition = Transition()
    fade_out: float = 0.0  # seconds fading to black at its end
    mute: bool = False
    caption: str | None = None
    label: str | None = None  # how messages name it (the shot); default: the file name

    @property
    def name(self) -> str:
        return self.label or Path(self.path).name


def film_duration(durations: list[float], transitions: list[Transition]) -> float:
    """Expected length: the clips' sum minus crossfade overlaps (transitions[0] is ignored)."""
    return sum(durations) - sum(t.overlap for t in transitions[1:])


@dataclass(frozen=True)
class Placed:
    """A clip on the film's grid: its first film frame, its length, and its head and tail edits."""

    index: int
    start: int
    frames: int
    head: int = 0
    head_kind: Edge = "none"
    tail: int = 0
    tail_kind: Edge = "none"

    @property
    def end(self) -> int:
        return self.start + self.frames


@dataclass(frozen=True)
class Effect:
    """A fade applied to one layer of a window over its first or last ``frames``."""

    kind: Literal["crossfade_in", "fade_in", "fade_out"]
    frames: int


@dataclass(frozen=True)
class Layer:
    """Frames [first, first + count) of one clip, shown from the window's start."""

    clip: int
    first: int
    count: int
    effect: Effect | None = None


@dataclass(frozen=True)
class Window:
    """A stretch composited from layers over black and re-encoded: a transition."""

    frames: int
    layers: tuple[Layer, ...]


@dataclass(frozen=True)
class Copy:
    """Frames of a clip joined by stream copy (``first`` is a keyframe or 0)."""

    clip: int
    first: int
    count: int


@dataclass(frozen=True)
class Bridge:
    """Plain frames re-encoded: from a transition's end up to the clip's next keyframe."""

    clip: int
    first: int
    count: int


Piece = Window | Copy | Bridge


class Timeline:
    """The film's layout from its clips and their measured frame counts."""

    def __init__(self, clips: list[CutClip], frames: list[int], fps: int):
        if not clips:
            raise MediaError("nothing to assemble: the cut has no clips")
        self.clips, self.fps = clips, fps
        heads, tails = _edges(clips, frames, fps)
        _check(clips, frames, heads, tails, fps)
        starts = _starts(frames, heads)
        self.placed = [Placed(i, starts[i], n, *heads[i], *tails[i]) for i, n in enumerate(frames)]
        self.total = self.placed[-1].end

    @property
    def seconds(self) -> float:
        return self.total / self.fps

    def heads_needing_keyframes(self) -> list[int]:
        """Clips whose copied part must start at a keyframe after a transition."""
        return [p.index for p in self.placed if p.head]

    def pieces(self, keyframes: dict[int, list[int]]) -> list[Piece]:
        """The film in order: windows, bridges and copies (``keyframes`` of the clips above)."""
        out: list[Piece] = []
        for p in self.placed:
            out += self._head(p) if p.head else []
            body_end = p.frames - p.tail
            start = _next_keyframe(keyframes.get(p.index, [0]), p.head, body_end)
            if start > p.head:
                out.append(Bridge(p.index, p.head, start - p.head))
            if body_end > start:
                out.append(Copy(p.index, start, body_end - start))
            if p.tail_kind == "fade":
                out.append(
                    Window(p.tail, (Layer(p.index, body_end, p.tail, Effect("fade_out", p.tail)),))
                )
        return out

    def _head(self, p: Placed) -> list[Piece]:
        if p.head_kind == "fade":
            return [Window(p.head, (Layer(p.index, 0, p.head, Effect("fade_in", p.head)),))]
        before = self.placed[p.index - 1]
        return [
            Window(
                p.head,
                (
                    Layer(before.index, before.frames - p.head, p.head),
                    Layer(p.index, 0, p.head, Effect("crossfade_in", p.head)),
                ),
            )
        ]

    def cues(self) -> list[tuple[float, float, str]]:
        """Subtitle cues: each caption over its clip, split at the middle of crossfades."""
        out = []
        for p, clip in zip(self.placed, self.clips, strict=True):
            if clip.caption and clip.caption.strip():
                start = p.start + (p.head / 2 if p.head_kind == "crossfade" else 0)
                end = p.end - (p.tail / 2 if p.tail_kind == "crossfade" else 0)
                out.append((start / self.fps, end / self.fps, clip.caption.strip()))
        return out

    def srt(self) -> str:
        """The cues as a SubRip file."""
        blocks = [
            f"{k}\n{srt_time(a)} --> {srt_time(b)}\n{text}\n"
            for k, (a, b, text) in enumerate(self.cues(), start=1)
        ]
        return "\n".join(blocks)


def srt_time(seconds: float) -> str:
    """SubRip's HH:MM:SS,mmm."""
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def _frames(seconds: float, fps: int) -> int:
    """A transition's length on the grid: at least one frame when it is asked for at all."""
    return max(1, round(seconds * fps)) if seconds > 0 else 0


def _edges(
    clips: list[CutClip], frames: list[int], fps: int
) -> tuple[list[tuple[int, Edge]], list[tuple[int, Edge]]]:
    """Each clip's head and tail edit (frames, kind), from the transitions and fade-outs."""
    heads: list[tuple[int, Edge]] = [(0, "none")] * len(clips)
    tails: list[tuple[int, Edge]] = [(0, "none")] * len(clips)
    for i, clip in enumerate(clips):
        t, n = clip.transition, _frames(clip.transition.duration, fps)
        if t.kind == "crossfade" and i > 0:
            heads[i], tails[i - 1] = (n, "crossfade"), (n, "crossfade")
        elif t.kind == "fade" and i == 0:
            heads[i] = (n, "fade")
        elif t.kind == "fade":
            heads[i], tails[i - 1] = (n - n // 2, "fade"), (n // 2, "fade")
        if t.kind not in ("cut", "crossfade", "fade"):
            raise MediaError(f"{clip.name}: unknown transition {t.kind!r} (cut, crossfade, fade)")
        if t.kind != "cut" and t.duration <= 0 and (i > 0 or t.kind == "fade"):
            raise MediaError(f"{clip.name}: a {t.kind} needs a duration > 0, got {t.duration}")
    for i, clip in enumerate(clips):
        if clip.fade_out > 0:
            if tails[i][1] != "none":
                raise MediaError(
                    f"{clip.name} fades out, and the transition after it also ends "
                    f"it: keep one of the two"
                )
            tails[i] = (_frames(clip.fade_out, fps), "fade")
    return heads, tails


def _check(
    clips: list[CutClip],
    frames: list[int],
    heads: list[tuple[int, Edge]],
    tails: list[tuple[int, Edge]],
    fps: int,
) -> None:
    """A crossfade cannot outlast either neighbour; a clip must hold its head and tail edits."""
    for i, clip in enumerate(clips):
        if heads[i][1] == "crossfade":
            for j in (i - 1, i):
                if heads[i][0] > frames[j]:
                    raise MediaError(
                        f"crossfade into {clip.name} lasts "
                        f"{clip.transition.duration:g} s, longer than "
                        f"{clips[j].name} ({frames[j] / fps:.3f} s)"
                    )
    for i, clip in enumerate(clips):
        if heads[i][0] + tails[i][0] > frames[i]:
            together = (heads[i][0] + tails[i][0]) / fps
            raise MediaError(
                f"{clip.name} lasts {frames[i] / fps:.3f} s, too short for its "
                f"transitions in and out ({together:g} s together)"
            )


def _starts(frames: list[int], heads: list[tuple[int, Edge]]) -> list[int]:
    """Each clip's first film frame: the previous clip's end, minus any crossfade overlap."""
    starts, at = [], 0
    for n, (head, kind) in zip(frames, heads, strict=True):
        at -= head if kind == "crossfade" else 0
        starts.append(at)
        at += n
    return starts


def _next_keyframe(keyframes: list[int], at: int, limit: int) -> int:
    """The first keyframe at or after ``at`` (a copy starts there), or ``limit`` if none is."""
    return min(next((k for k in sorted(keyframes) if k >= at), limit), limit) if at else 0
