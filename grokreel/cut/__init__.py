"""The final cut: clips normalized once each, joined by stream copy, transitions re-encoded alone.

    normalize_clip   one clip → the film's format (a cached job per clip in a build)
    assemble         normalized clips → the film: windows re-encoded, the rest copied, sound rebuilt
    clip_qa          warnings about a rendered clip (length, sound, black or frozen stretches)
    export_otio      the cut as an OpenTimelineIO timeline for Resolve or Premiere

Names are loaded on first use, so planning a storyboard does not import the media stack (and only
transition windows import MoviePy, which is slow to import).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .assembly import Film, assemble
    from .audio import MusicBed
    from .encoding import ENGINE, FilmFormat
    from .normalize import Card, ClipSpec, Overlay, normalize_clip
    from .otio import export_otio
    from .qa import clip_qa
    from .timeline import CutClip, Timeline, Transition, film_duration

__all__ = [
    "ENGINE",
    "Card",
    "ClipSpec",
    "CutClip",
    "Film",
    "FilmFormat",
    "MusicBed",
    "Overlay",
    "Timeline",
    "Transition",
    "assemble",
    "clip_qa",
    "export_otio",
    "film_duration",
    "normalize_clip",
]

_HOME = {
    "Film": "assembly",
    "assemble": "assembly",
    "MusicBed": "audio",
    "ENGINE": "encoding",
    "FilmFormat": "encoding",
    "Card": "normalize",
    "ClipSpec": "normalize",
    "Overlay": "normalize",
    "normalize_clip": "normalize",
    "export_otio": "otio",
    "clip_qa": "qa",
    "CutClip": "timeline",
    "Timeline": "timeline",
    "Transition": "timeline",
    "film_duration": "timeline",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f".{_HOME[name]}", __name__), name)
