"""Download a URL into a local file, streamed, with errors mapped once into grokreel's tree."""

from __future__ import annotations

from pathlib import Path

import httpx

from .errors import BackendError

__all__ = ["fetch_url"]

TIMEOUT = httpx.Timeout(60.0, connect=15.0)


async def fetch_url(url: str, dest: Path) -> Path:
    """GET ``url`` into ``dest``; raise BackendError with the reason (never the URL's query)."""
    shown = url.split("?", 1)[0]
    try:
        async with (
            httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=True) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code != 200:
                raise BackendError(f"HTTP {response.status_code} from {shown}")
            with open(dest, "wb") as out:
                async for chunk in response.aiter_bytes(1 << 20):
                    out.write(chunk)
    except httpx.HTTPError as exc:
        raise BackendError(f"cannot download {shown}: {type(exc).__name__}") from None
    return dest
