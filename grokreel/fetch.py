"""Downloading media: only from the provider's own media hosts, redirects checked hop by hop.

A result's video URL and a lock file's ``source_url`` are data a server or a stranger's pull request
chose, so grokreel fetches them only from hosts on an allow-list (``MediaHosts``): by default
``https`` URLs on fal's media domains, plus the origins or domains listed in
``GROKREEL_MEDIA_HOSTS`` (comma-separated; the shipped fal test server lists its loopback origin
there). A redirect is followed only to a host on the list. ``stream`` is the one downloader; the
fal backend wraps it in its retries, and ``fetch_url`` (locked takes) in its own.

Only a definite answer (404, 410, another 4xx) counts as "can no longer be fetched": a passing
network fault must not make a build pay for a clip it could have fetched.
"""

from __future__ import annotations

import email.utils
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import stamina

from .errors import BackendError

__all__ = [
    "DEFAULT_MEDIA_DOMAINS",
    "MediaHosts",
    "OffList",
    "Refused",
    "TransientFetch",
    "fetch_url",
    "retry_after",
    "stream",
]

DEFAULT_MEDIA_DOMAINS = ("fal.media", "fal.ai", "fal.run")
TIMEOUT = httpx.Timeout(60.0, connect=15.0)
TRANSIENT_STATUS = frozenset({408, 409, 425, 429, *range(500, 600)})
MAX_REDIRECTS = 5
CHUNK = 1 << 20


class TransientFetch(Exception):
    """A failure worth another try (a dropped transfer, a 503…); ``after``: Retry-After, s."""

    def __init__(self, message: str, after: float | None = None):
        super().__init__(message)
        self.after = after


class Refused(BackendError):
    """A definite answer: the URL gave a final HTTP status (``status``)."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


class OffList(BackendError):
    """The URL (or a redirect) points at a host that is not on the media allow-list."""


@dataclass(frozen=True)
class MediaHosts:
    """The hosts media may be downloaded from: ``https`` on ``domains`` (and their subdomains),
    or exactly one of ``origins`` (``scheme://host:port``, any scheme, as configured)."""

    domains: tuple[str, ...] = DEFAULT_MEDIA_DOMAINS
    origins: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, extra: Iterable[str] = ()) -> MediaHosts:
        """The defaults plus ``GROKREEL_MEDIA_HOSTS`` and ``extra`` (origins or domains)."""
        listed = [*os.environ.get("GROKREEL_MEDIA_HOSTS", "").split(","), *extra]
        listed = [item.strip().rstrip("/").lower() for item in listed if item.strip()]
        origins = tuple(item for item in listed if "://" in item)
        domains = tuple(item.lstrip(".") for item in listed if "://" not in item)
        return cls(DEFAULT_MEDIA_DOMAINS + domains, origins)

    def allows(self, url: str) -> bool:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if f"{parts.scheme}://{parts.netloc}".lower() in self.origins:
            return True
        on_domain = any(host == d or host.endswith(f".{d}") for d in self.domains)
        return parts.scheme == "https" and on_domain

    def check(self, url: str) -> None:
        if not self.allows(url):
            raise OffList(
                f"refused to download from {shown(url)}: not one of the media hosts "
                f"({', '.join(self.domains + self.origins)}); if you trust it, add its origin "
                "to GROKREEL_MEDIA_HOSTS"
            )


def shown(url: str) -> str:
    """``url`` without its query (signed URLs carry tokens there)."""
    return url.split("?", 1)[0]


async def stream(
    client: httpx.AsyncClient,
    url: str,
    dest: Path,
    hosts: MediaHosts,
    headers: Callable[[str], dict[str, str]] = lambda url: {},
) -> int:
    """GET ``url`` into ``dest``, following at most 5 redirects, each to an allowed host, with
    ``headers(hop)`` for each hop (a key only where its owner says); the size written.

    Raises TransientFetch (retry), Refused (a final status) or OffList."""
    for _ in range(MAX_REDIRECTS + 1):
        hosts.check(url)
        async with client.stream("GET", url, headers=headers(url)) as response:
            if response.is_redirect and "location" in response.headers:
                url = urljoin(url, response.headers["location"])
                continue
            if response.status_code in TRANSIENT_STATUS:
                said = f"HTTP {response.status_code} from {shown(url)}"
                raise TransientFetch(said, retry_after(response))
            if not response.is_success:
                await response.aread()
                raise Refused(
                    f"HTTP {response.status_code} from {shown(url)}", response.status_code
                )
            return await _save(response, dest)
    raise Refused(f"more than {MAX_REDIRECTS} redirects from {shown(url)}", 310)


def retry_after(response: httpx.Response) -> float | None:
    """The server's ``Retry-After`` (seconds or an HTTP date) as seconds from now."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


async def _save(response: httpx.Response, dest: Path) -> int:
    expected = response.headers.get("content-length")
    size = 0
    with open(dest, "wb") as out:
        async for chunk in response.aiter_bytes(CHUNK):
            out.write(chunk)
            size += len(chunk)
    if expected and expected.isdigit() and int(expected) != size:
        raise TransientFetch(f"the transfer ended after {size} of {expected} bytes")
    return size


async def fetch_url(url: str, dest: Path, hosts: MediaHosts | None = None) -> Path:
    """GET ``url`` into ``dest`` (a locked take), retried on passing faults; BackendError with
    the reason otherwise (never the URL's query)."""
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT) as client:
            async for attempt in stamina.retry_context(on=TransientFetch, attempts=5, timeout=120):
                with attempt:
                    try:
                        await stream(client, url, dest, hosts or MediaHosts.from_env())
                    except httpx.HTTPError as exc:
                        raise TransientFetch(type(exc).__name__) from None
    except TransientFetch as exc:
        raise BackendError(f"cannot download {shown(url)}: {exc}") from None
    except OSError as exc:
        raise BackendError(f"cannot write {dest}: {exc.strerror or exc}") from None
    return dest
