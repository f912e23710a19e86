"""Compile the storyboard's edit (`cut`, `music`, captions, `output`) into jobs.

Each clip of the cut becomes a `normalize` job (the clip in the film's format, trimmed, titled, its
caption burned in), keyed by the clip's content and the format: a clip is normalized once, however
often the film around it changes. The `cut` job depends on them and holds what only the join needs
(transitions, fades, muting, the music bed, the subtitles), so editing those re-runs the join alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from ..job import Job, film_size
from ..spec.files import Files
from ..spec.load import Shape
from ..spec.model import CutItem, Music, Shot, Storyboard
from ..spec.source import Loc

__all__ = ["CARD_SECONDS", "CompileHost", "CutCompiler"]

CARD_SECONDS = 3.0


class CompileHost(Protocol):
    """What the cut's compiler needs from the storyboard compiler that hosts it."""

    board: Storyboard
    shape: Shape
    files: Files
    base: Path
    final: dict[str, str]
    durations: dict[str, float | None]

    def error(self, loc: Loc, message: str, hint: str = "", *, key: bool = False) -> None: ...
    def warn(self, loc: Loc, message: str, hint: str = "") -> None: ...
    def unknown(self, loc: Loc, what: str, name: str, known: list[str]) -> None: ...
    def upstream_shots(self, shot: Shot) -> list[tuple[str, Loc]]: ...
    def local_file(self, loc: Loc, text: str, wanted: tuple[str, ...]) -> str: ...
    def add(self, job: Job) -> None: ...


class CutCompiler:
    """The cut half of the storyboard compiler; reports through the host compiler."""

    def __init__(self, host: CompileHost, font: str | None = None):
        self.host, self.board, self.font = host, host.board, font
        out = self.board.output
        width, height = film_size(out.resolution, out.aspect_ratio)
        self.format = {"width": width, "height": height, "fps": out.fps, "fit": out.fit}
        self.burn = out.captions in ("both", "burn")
        self.srt = out.captions in ("both", "srt")

    def compile(self) -> None:
        """Add one normalize job per clip, then the cut job over them."""
        items = self._items()
        if not items:
            if self.board.cut is not None and not self.host.shape.touches(("cut",)):
                self.host.error(("cut",), "the cut has no clips", "list the film's shots in `cut:`")
            return
        clips = [
            clip
            for i, (loc, item) in enumerate(items)
            if (clip := self._clip(i, loc, item, items)) is not None
        ]
        self._check_crossfades(clips)
        request = {
            "clips": [c["request"] for c in clips],
            "format": self.format,
            "music": self._music(),
            "subtitles": self.srt,
        }
        length = sum(c["seconds"] or 0 for c in clips) - sum(
            c["request"]["transition"]["duration"]
            for c in clips
            if (c["request"]["transition"] or {}).get("type") == "crossfade"
        )
        deps = tuple(c["job"] for c in clips)
        self.host.add(Job("cut", "cut", None, None, request, 1, length, deps))

    def _items(self) -> list[tuple[Loc, CutItem]]:
        """The cut as written, or every shot that no edit or extension consumes."""
        if self.board.cut is not None:
            items = [(("cut", i), item) for i, item in enumerate(self.board.cut)]
            return [(loc, item) for loc, item in items if loc not in self.host.shape.broken]
        consumed = {
            ref
            for s in self.board.shots.values()
            if s.video is not None
            for ref, _ in self.host.upstream_shots(s)
        }
        return [(("shots", n), CutItem(shot=n)) for n in self.board.shots if n not in consumed]

    def _clip(
        self, i: int, loc: Loc, item: CutItem, items: list[tuple[Loc, CutItem]]
    ) -> dict[str, Any] | None:
        """The normalize job of item ``i`` and its entry in the cut's request."""
        if item.shot is not None and item.shot not in self.board.shots:
            self.host.unknown(loc + ("shot",), "shot", item.shot, list(self.board.shots))
            return None
        if item.shot is not None and item.shot not in self.host.final:
            return None  # the shot itself failed to compile: already reported
        self._check_edges(i, loc, item, items)
        job, seconds = self._normalize_job(i, loc, item)
        self.host.add(job)
        transition = (
            item.transition.model_dump()
            if item.transition and (i or item.transition.type == "fade")
            else None
        )
        caption = self.board.shots[item.shot].caption if item.shot else None
        entry = {
            "ref": f"job:{job.id}",
            "transition": transition,
            "fade_out": item.fade_out or 0.0,
            "mute": item.mute,
            "caption": caption if self.srt else None,
        }
        return {"job": job.id, "seconds": seconds, "request": entry, "loc": loc}

    def _normalize_job(self, i: int, loc: Loc, item: CutItem) -> tuple[Job, float | None]:
        overlays = [self._title(item)] if item.title else []
        if self.font is not None:  # in the key only when set: it changes these clips' pixels
            overlays = [o | {"font": self.font} for o in overlays]
        if item.shot is None:
            seconds = item.duration or CARD_SECONDS
            card = {"duration": seconds, "background": item.background or "black"}
            request = {
                "source": None,
                "format": self.format,
                "trim": None,
                "card": card,
                "overlays": overlays,
            }
            return Job(f"cut:{i + 1}:title", "normalize", None, None, request, 1, seconds), seconds
        upstream = self.host.final[item.shot]
        caption = self.board.shots[item.shot].caption
        if self.burn and caption and caption.strip():
            overlays.append(
                {
                    "text": caption.strip(),
                    "style": "caption",
                    "start": 0.0,
                    "end": None,
                    "color": "white",
                }
                | ({"font": self.font} if self.font else {})
            )
        seconds = self._trimmed(loc, item, self.host.durations.get(upstream))
        trim = {"in": item.in_ or 0.0, "out": item.out}
        request = {
            "source": f"job:{upstream}",
            "format": self.format,
            "trim": trim,
            "card": None,
            "overlays": overlays,
        }
        job = Job(
            f"cut:{i + 1}:{item.shot}",
            "normalize",
            item.shot,
            None,
            request,
            1,
            seconds,
            (upstream,),
        )
        return job, seconds

    @staticmethod
    def _title(item: CutItem) -> dict[str, Any]:
        assert item.title is not None
        t = item.title
        end = t.start + t.duration if t.duration is not None else None
        return {"text": t.text, "style": "title", "start": t.start, "end": end, "color": t.color}

    def _trimmed(self, loc: Loc, item: CutItem, seconds: float | None) -> float | None:
        """The clip's expected length after `in`/`out`; a trim outside the shot is an error."""
        start = item.in_ or 0.0
        if seconds is None:
            return None if item.out is None else item.out - start
        if start >= seconds:
            self.host.error(
                loc + ("in",),
                f"`in: {start:g}` is past the end of shot `{item.shot}` ({seconds:g} s)",
                "trim inside the shot",
            )
        if item.out is not None and item.out > seconds + 1e-9:
            self.host.warn(
                loc + ("out",),
                f"`out: {item.out:g}` is past the end of shot "
                f"`{item.shot}` ({seconds:g} s); the clip ends with the shot",
            )
        return max(0.0, min(item.out or seconds, seconds) - start)

    def _check_edges(
        self, i: int, loc: Loc, item: CutItem, items: list[tuple[Loc, CutItem]]
    ) -> None:
        t = item.transition
        if i == 0 and t and t.type == "crossfade":
            self.host.warn(
                loc + ("transition",),
                "the first clip has nothing to crossfade from",
                "use `fade` to fade in from black, or remove the transition",
            )
        after = items[i + 1][1].transition if i + 1 < len(items) else None
        if item.fade_out and after and after.type != "cut":
            self.host.error(
                loc + ("fade_out",),
                f"this clip fades out, and the next clip's `{after.type}` also ends it",
                "keep one of the two",
            )

    def _check_crossfades(self, clips: list[dict[str, Any]]) -> None:
        for i, clip in enumerate(clips):
            t = clip["request"]["transition"]
            if not t or t["type"] != "crossfade" or i == 0:
                continue
            shortest = min(c["seconds"] or 1e9 for c in clips[i - 1 : i + 1])
            if t["duration"] >= shortest:
                self.host.error(
                    clip["loc"] + ("transition",),
                    f"crossfade of {t['duration']:g} s "
                    f"is not shorter than its clips ({shortest:g} s)",
                    "shorten the crossfade",
                )

    def _music(self) -> dict[str, Any] | None:
        music = self.board.music
        if music is None:
            return None
        ref = self._music_file(music)
        if ref is None:
            return None
        return {
            "ref": ref,
            "volume": music.volume,
            "fade_in": music.fade_in,
            "fade_out": music.fade_out,
            "start": music.start,
            "loop": music.loop,
        }

    def _music_file(self, music: Music) -> str | None:
        """A local sound file: an audio or video asset, or a path beside the storyboard."""
        loc: Loc = ("music",)
        if music.asset is None:
            return self.host.local_file(loc, music.path or "", ("audio", "video")) or None
        if music.asset not in self.board.assets:
            self.host.unknown(loc, "asset", music.asset, list(self.board.assets))
            return None
        asset = self.board.assets[music.asset]
        if asset.url is not None:
            self.host.error(loc, f"asset `{music.asset}` is a URL", "music must be a local file")
            return None
        return self.host.local_file(loc, asset.path or "", ("audio", "video")) or None
