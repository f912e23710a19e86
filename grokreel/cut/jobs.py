"""The `normalize` and `cut` jobs: a compiled request in, a file and its record's extras out.

The executor resolves media references to local files; everything about what the requests mean
lives here, next to the code that carries them out (see compile.py for how they are written).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .assembly import assemble
from .audio import MusicBed
from .encoding import FilmFormat
from .normalize import Card, ClipSpec, Overlay, normalize_clip
from .timeline import CutClip, Transition

__all__ = ["run_cut", "run_normalize"]


def run_normalize(
    request: dict[str, Any], source: Path | None, workdir: Path
) -> tuple[Path, dict[str, Any]]:
    """Normalize one clip of the cut; the record notes how (link, remux, encode) and its length."""
    fmt = FilmFormat(**request["format"])
    trim = request.get("trim") or {}
    card = Card(**request["card"]) if request.get("card") else None
    overlays = tuple(
        Overlay(o["text"], o["style"], o["start"], o["end"], o["color"], o.get("font", "")[5:])
        for o in request.get("overlays", [])
    )
    spec = ClipSpec(fmt, trim.get("in") or 0.0, trim.get("out"), overlays, card)
    dest = workdir / "clip.mp4"
    done = normalize_clip(source, dest, spec, workdir)
    return dest, {
        "method": done["method"],
        "video": {"duration": done["frames"] / fmt.fps, "num_frames": done["frames"]},
    }


def run_cut(
    request: dict[str, Any], paths: dict[str, Path], workdir: Path
) -> tuple[Path, dict[str, Any]]:
    """Assemble the film from its normalized clips; the record keeps the subtitles and the split
    between copied and re-encoded frames."""
    fmt = FilmFormat(**request["format"])
    clips = [_clip(entry, paths) for entry in request["clips"]]
    music = request.get("music")
    bed = (
        MusicBed(
            paths[music["ref"]],
            music["volume"],
            music["fade_in"],
            music["fade_out"],
            music["start"],
            music["loop"],
        )
        if music
        else None
    )
    dest = workdir / "film.mp4"
    film = assemble(clips, dest, fmt, bed)
    extra = {
        "video": {"duration": film.seconds, "num_frames": film.frames},
        "copied_frames": film.copied_frames,
        "encoded_frames": film.encoded_frames,
        "srt": film.srt if request.get("subtitles") and film.srt else None,
    }
    return dest, extra


def _clip(entry: dict[str, Any], paths: dict[str, Path]) -> CutClip:
    t = entry.get("transition") or {}
    transition = Transition(t.get("type", "cut"), float(t.get("duration", 0.0)))
    return CutClip(
        paths[entry["ref"]],
        transition,
        float(entry.get("fade_out") or 0.0),
        bool(entry.get("mute")),
        entry.get("caption"),
        _label(entry["ref"]),
    )


def _label(ref: str) -> str:
    """`job:cut:3:arrival` → `clip 3 (arrival)`, `job:cut:1:title` → `clip 1 (title)`."""
    parts = ref.removeprefix("job:").split(":")
    if len(parts) == 3 and parts[0] == "cut":
        return f"clip {parts[1]} ({parts[2]})"
    return ref.removeprefix("job:")
