"""Video backends behind one protocol: `animatic` (offline drafts) and, with FAL_KEY, `fal`."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import PlanError
from .base import MAX_IN_FLIGHT, Backend, MediaInput, Progress, RenderRequest, RenderResult

__all__ = [
    "Backend",
    "MediaInput",
    "Progress",
    "RenderRequest",
    "RenderResult",
    "available",
    "default_backend",
    "make_backend",
]


def available() -> list[str]:
    names = ["animatic"]
    try:
        from . import fal  # noqa: F401
    except ImportError:
        return names
    return names + ["fal"]


def default_backend() -> str:
    """`fal` when FAL_KEY is set (and the fal backend is installed), else the offline animatic."""
    env = os.environ
    keyed = env.get("FAL_KEY") or (env.get("FAL_KEY_ID") and env.get("FAL_KEY_SECRET"))
    return "fal" if keyed and "fal" in available() else "animatic"


def make_backend(name: str, cache_dir: Path, *, max_in_flight: int = MAX_IN_FLIGHT) -> Backend:
    """The backend called ``name``; it may keep journals and upload records in ``cache_dir``;
    a remote one sizes its connection pools for ``max_in_flight`` jobs at once."""
    if name == "animatic":
        from .animatic import AnimaticBackend

        return AnimaticBackend()
    if name == "fal" and "fal" in available():
        from .fal import FalBackend  # type: ignore[attr-defined]

        return FalBackend.from_env(cache_dir, max_in_flight=max_in_flight)
    raise PlanError(f"unknown backend `{name}`; available: {', '.join(available())}")
