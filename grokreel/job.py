"""What the storyboard compiler and the cut's compiler share: the job they emit and the film size.

A module of its own so that ``plan`` and ``cut.compile`` depend on it instead of on each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from . import api

__all__ = ["ASPECTS", "Job", "JobKind", "film_size", "nearest_aspect"]

JobKind = Literal["generate", "edit", "extend", "frame", "normalize", "cut"]
ASPECTS = {
    "16:9": 16 / 9,
    "4:3": 4 / 3,
    "3:2": 3 / 2,
    "1:1": 1.0,
    "2:3": 2 / 3,
    "3:4": 3 / 4,
    "9:16": 9 / 16,
}


@dataclass(frozen=True)
class Job:
    """One node of the build: a request to a backend, a frame grab, or the cut.

    ``request`` is the normalized API input; its media fields hold references: ``job:ID`` (an
    upstream output), ``file:PATH`` (a local file) or a URL. ``font`` (``file:PATH``, a rendered
    job's) is the storyboard's own font: the animatic draws its text with it; no API ever sees it.
    """

    id: str
    kind: JobKind
    shot: str | None = None
    endpoint: str | None = None
    request: dict[str, Any] = field(default_factory=dict)
    take: int = 1
    duration: float | None = None
    deps: tuple[str, ...] = ()
    font: str | None = None

    @property
    def endpoint_id(self) -> str | None:
        return api.endpoint_id(self.endpoint) if self.endpoint else None

    @property
    def refs(self) -> list[str]:
        """Every media reference this job's request holds, in order."""
        out: list[str] = []
        for name in sorted(api.FILE_FIELDS | {"source", "clips", "music"}):
            value = self.request.get(name)
            items = value if isinstance(value, list) else [value]
            out += [_ref_of(v) for v in items if _ref_of(v)]
        return out


def _ref_of(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("ref", "")
    return value if isinstance(value, str) else ""


def film_size(resolution: str, aspect_ratio: str) -> tuple[int, int]:
    """Nominal frame size: the short side is the resolution's lines; both sides even."""
    lines = int(resolution.rstrip("p"))
    ratio = ASPECTS[aspect_ratio]
    long_side = round(lines * max(ratio, 1 / ratio) / 2) * 2
    return (long_side, lines) if ratio >= 1 else (lines, long_side)


def nearest_aspect(width: int, height: int) -> str:
    """The API aspect ratio closest to a ``width``×``height`` picture."""
    return min(ASPECTS, key=lambda name: abs(ASPECTS[name] - width / height))
