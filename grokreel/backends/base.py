"""The one small protocol every video backend speaks (like an httpx transport).

A backend receives a RenderRequest — endpoint, the normalized API input, and the local or remote
media its references point at — and returns a RenderResult: a local video file plus the API's video
metadata. Everything above this interface is testable without a network.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..errors import AuthError

__all__ = [
    "MAX_IN_FLIGHT",
    "Backend",
    "MediaInput",
    "Progress",
    "RenderRequest",
    "RenderResult",
    "fal_key",
    "no_fal_key",
]

Progress = Callable[[str], None]
# Paid jobs in flight at once by default: each only waits on the API (no CPU), and fal queues what
# it cannot run yet without rejecting it, so a 30-shot board has every ready job in flight.
MAX_IN_FLIGHT = 32


@dataclass(frozen=True)
class MediaInput:
    """Content a request refers to: a verified local file, and a remote URL when one is known.

    Without a ``path``, it is a clip the API has just named (``RenderRequest.named``) and this
    build is still downloading: only its URL can be passed on."""

    ref: str
    path: Path | None
    sha256: str
    url: str | None = None


@dataclass(frozen=True)
class RenderRequest:
    """One paid (or, offline, drafted) API call: ``input`` holds refs that ``media`` resolves."""

    job_id: str
    shot: str
    endpoint: str  # short name, e.g. "text-to-video"
    endpoint_id: str  # "xai/grok-imagine-video/text-to-video"
    input: dict[str, Any]
    media: dict[str, MediaInput]
    key: str  # the paid request's identity: its journal entry, lease and claim (keys.py)
    take: int = 1
    variation: int = 0  # > 0 for a forced re-render: ask for a new variation of the same request
    font: Path | None = None  # the storyboard's own font: the animatic draws in it; never sent
    # Told (request id, URL) the moment the API names the clip, before it is downloaded: a job
    # that only passes the clip on by URL is submitted meanwhile. Backends without URLs ignore it.
    named: Callable[[str, str], None] | None = None
    cache_key: str = ""  # the output's cache key when known (an older grokreel journaled by it)


@dataclass
class RenderResult:
    """A rendered clip in a local file, with what the API said about it."""

    path: Path
    video: dict[str, Any]
    request_id: str | None = None
    source_url: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Backend(Protocol):
    """A video backend. ``render`` must leave no paid work unrecorded (see the fal backend)."""

    name: str

    async def render(
        self, request: RenderRequest, workdir: Path, progress: Progress
    ) -> RenderResult:
        """Render ``request`` into a file inside ``workdir``."""
        ...

    async def release(self, key: str, output: str) -> None:
        """The clip for job ``key`` is safely in the store as blob ``output``: end its journal
        entry (keeping a receipt)."""
        ...

    async def aclose(self) -> None:
        """Release connections; called once at the end of a build."""
        ...


def fal_key() -> str:
    """fal's key from the environment: FAL_KEY, or FAL_KEY_ID and FAL_KEY_SECRET; '' if unset."""
    env = os.environ
    if env.get("FAL_KEY"):
        return env["FAL_KEY"]
    if env.get("FAL_KEY_ID") and env.get("FAL_KEY_SECRET"):
        return f"{env['FAL_KEY_ID']}:{env['FAL_KEY_SECRET']}"
    return ""


def no_fal_key() -> AuthError:
    return AuthError(
        "FAL_KEY is not set: export FAL_KEY (or FAL_KEY_ID and FAL_KEY_SECRET) to "
        "render on fal.ai, or use --backend animatic to draft offline"
    )
