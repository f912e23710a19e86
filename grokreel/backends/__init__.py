"""Video backends behind one protocol: `animatic` (offline drafts) and, with FAL_KEY, `fal`."""

from __future__ import annotations

from collections.abc import Callable
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import PlanError
from .base import (
    MAX_IN_FLIGHT,
    Backend,
    MediaInput,
    Progress,
    RenderRequest,
    RenderResult,
    fal_key,
    no_fal_key,
)

if TYPE_CHECKING:
    from ..cache.tier import Tier

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
    """The backends this installation can run; fal needs its network client, looked up here
    without importing it."""
    return ["animatic"] + (["fal"] if all(find_spec(m) for m in ("httpx", "stamina")) else [])


def default_backend() -> str:
    """`fal` when FAL_KEY is set (and the fal backend is installed), else the offline animatic."""
    return "fal" if fal_key() and "fal" in available() else "animatic"


def make_backend(name: str, cache_dir: Path, *, max_in_flight: int = MAX_IN_FLIGHT) -> Backend:
    """The backend called ``name``; it may keep journals and upload records in ``cache_dir``;
    a remote one sizes its connection pools for ``max_in_flight`` jobs at once."""
    if name == "animatic":
        from .animatic import AnimaticBackend

        return AnimaticBackend()
    if name == "fal" and "fal" in available():
        if not fal_key():
            raise no_fal_key()  # at once, not at the first render

        def fal() -> Backend:
            from .fal import FalBackend

            return FalBackend.from_env(cache_dir, max_in_flight=max_in_flight)

        return OnFirstRender("fal", fal)
    raise PlanError(f"unknown backend `{name}`; available: {', '.join(available())}")


class OnFirstRender:
    """A backend made when a job first renders on it: a build that renders nothing (a no-op)
    never imports its network stack, a tenth of a second of its start-up."""

    def __init__(self, name: str, make: Callable[[], Backend]):
        self.name = name
        self._make = make
        self._made: Backend | None = None
        self._remote: Tier | None = None

    def share(self, remote: Tier) -> None:
        """Passed on to the backend when it is made (only the fal backend shares a journal)."""
        self._remote = remote

    def backend(self) -> Backend:
        if self._made is None:
            self._made = self._make()
            share = getattr(self._made, "share", None)
            if self._remote is not None and share is not None:
                share(self._remote)
        return self._made

    async def render(
        self, request: RenderRequest, workdir: Path, progress: Progress
    ) -> RenderResult:
        return await self.backend().render(request, workdir, progress)

    async def release(self, key: str, output: str) -> None:
        await self.backend().release(key, output)

    async def aclose(self) -> None:
        if self._made is not None:
            await self._made.aclose()
