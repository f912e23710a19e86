"""Download a URL into a local file, streamed, retried on transient failures, errors mapped once.

Used for locked takes: a passing network fault must not make a build pay for a clip it could have
fetched, so only a definite answer (404, 410, another 4xx) counts as "can no longer be fetched".
"""

from __future__ import annotations

from pathlib import Path

import httpx
import stamina

from .errors import BackendError

__all__ = ["fetch_url"]

TIMEOUT = httpx.Timeout(60.0, connect=15.0)
TRANSIENT_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


class _Transient(Exception):
    """A failure worth another try."""


async def fetch_url(url: str, dest: Path) -> Path:
    """GET ``url`` into ``dest``; raise BackendError with the reason (never the URL's query)."""
    shown = url.split("?", 1)[0]
    try:
        async for attempt in stamina.retry_context(on=_Transient, attempts=5, timeout=120):
            with attempt:
                await _get(url, dest, shown)
    except _Transient as exc:
        raise BackendError(f"cannot download {shown}: {exc}") from None
    return dest


async def _get(url: str, dest: Path, shown: str) -> None:
    try:
        async with (
            httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=True) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code in TRANSIENT_STATUS:
                raise _Transient(f"HTTP {response.status_code}")
            if response.status_code != 200:
                raise BackendError(f"HTTP {response.status_code} from {shown}")
            with open(dest, "wb") as out:
                async for chunk in response.aiter_bytes(1 << 20):
                    out.write(chunk)
    except httpx.HTTPError as exc:
        raise _Transient(type(exc).__name__) from None
