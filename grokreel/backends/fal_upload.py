"""Getting a request's media to fal: URLs that already work are reused, everything else uploaded.

    .grokreel/uploads/ab/ab12….json   sha256 of the bytes → the fal URL they were uploaded to

An upstream clip that fal rendered is passed by its fal URL while that URL still answers with the
right size; local files (assets, grabbed frames, expired clips) go through fal's storage token and
CDN upload once per content hash, however many shots or builds use them. Remote URLs are checked
with one HEAD request, because fal's media URLs expire by account setting; except a clip this
backend downloaded minutes ago, whose URL is known alive (a chain's next link is submitted a
round trip sooner).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from ..cache.store import atomic_write_text
from ..media.sniff import MediaType, media_type_of
from .base import MediaInput, Progress
from .fal_http import FalHttp, Transient, Where, origin

__all__ = ["FAL_MEDIA_HOSTS", "Uploads"]

FAL_MEDIA_HOSTS = ("fal.media", "fal.ai", "fal.run")
TOKEN_MARGIN = 60.0  # renew a storage token this long before it expires
FRESH = 600.0  # seconds a URL this backend downloaded from counts as alive without a HEAD


@dataclass(frozen=True)
class _Token:
    header: str
    base_url: str
    expires: float

    def __repr__(self) -> str:
        return f"_Token(base_url={self.base_url!r}, expires={self.expires})"


class Uploads:
    """Turns a ``MediaInput`` into a URL fal can read, uploading each content hash at most once."""

    def __init__(self, http: FalHttp, cache_dir: Path):
        self.http = http
        self.root = Path(cache_dir) / "uploads"
        self.uploaded = 0  # uploads made by this process (tests and the progress line use it)
        self._token: _Token | None = None
        self._token_lock = asyncio.Lock()
        self._locks: dict[str, asyncio.Lock] = {}
        self._known: dict[str, str] = {}  # sha256 → URL verified during this process
        self._downloaded: dict[str, tuple[float, int]] = {}  # URL → (when, bytes)
        self._fal_origins = {origin(http.queue_url), origin(http.rest_url)}

    def is_fal(self, url: str) -> bool:
        """Whether ``url`` lives on fal's CDN (or on the fal hosts this backend was pointed at)."""
        host = (urlsplit(url).hostname or "").lower()
        on_fal = any(host == h or host.endswith(f".{h}") for h in FAL_MEDIA_HOSTS)
        return on_fal or origin(url) in self._fal_origins

    def downloaded(self, url: str, size: int) -> None:
        """``url`` just gave us ``size`` bytes: it is alive, no need to ask again for a while."""
        self._downloaded[url] = (time.monotonic(), size)

    async def url_for(self, media: MediaInput, where: Where, progress: Progress) -> str:
        """A URL fal can read for ``media``: its fal URL while alive, else an (cached) upload."""
        if media.path is None:  # fal named this clip a moment ago; it is still downloading
            assert media.url, f"{media.ref} has neither a file nor a URL"
            return media.url
        if media.url and self.is_fal(media.url) and await self._usable(media.url, media.path):
            return media.url
        async with self._locks.setdefault(media.sha256, asyncio.Lock()):
            url = self._known.get(media.sha256)
            if url is None:
                url = await self._remembered(media)
                if url is None:
                    progress(f"uploading {media.path.name}")
                    url = await self._upload(media, where)
                self._known[media.sha256] = url
            return url

    async def _usable(self, url: str, path: Path) -> bool:
        """Downloaded by this backend minutes ago, with our size; else asked with a HEAD."""
        when, size = self._downloaded.get(url, (-FRESH, -1))
        if time.monotonic() - when < FRESH and size == path.stat().st_size:
            return True
        return await self._alive(url, path)

    async def _alive(self, url: str, path: Path) -> bool:
        """One HEAD: the URL answers 2xx and, when it says its size, the size is ours."""
        if not self.http.hosts.allows(url):  # never probe a host a server or record chose
            return False
        try:
            response = await self.http.send("HEAD", url)
        except (Transient, ValueError):  # any doubt means upload again: bandwidth, never money
            return False
        size = response.headers.get("content-length")
        same = size is None or not size.isdigit() or int(size) == path.stat().st_size
        return response.is_success and same

    def _record(self, sha: str) -> Path:
        return self.root / sha[:2] / f"{sha}.json"

    async def _remembered(self, media: MediaInput) -> str | None:
        try:
            url = json.loads(self._record(media.sha256).read_text())["url"]
        except (FileNotFoundError, json.JSONDecodeError, KeyError, TypeError):
            return None
        return url if await self._alive(url, media.path) else None

    async def _upload(self, media: MediaInput, where: Where) -> str:
        token = await self._storage_token(where)
        found = await asyncio.to_thread(media_type_of, media.path)
        headers = {
            "Authorization": token.header,
            "Content-Type": found.mime if found else "application/octet-stream",
            "X-Fal-File-Name": upload_name(media, found),
        }
        data = await asyncio.to_thread(media.path.read_bytes)
        answer = await self.http.call_json(
            where,
            f"the upload of {media.path.name}",
            "POST",
            f"{token.base_url}/files/upload",
            content=data,
            headers=headers,
        )
        url = answer.get("access_url")
        if not isinstance(url, str) or not url:
            raise self.http.fail(where, f"the upload of {media.path.name} gave no access_url")
        self.uploaded += 1
        atomic_write_text(
            self._record(media.sha256),
            json.dumps({"url": url, "name": media.path.name, "time": time.time()}),
        )
        return url

    async def _storage_token(self, where: Where) -> _Token:
        """fal's CDN token, fetched once and reused until shortly before it expires."""
        async with self._token_lock:
            if self._token is None or self._token.expires - TOKEN_MARGIN < time.time():
                answer = await self.http.call_json(
                    where,
                    "the storage token request",
                    "POST",
                    f"{self.http.rest_url}/storage/auth/token?storage_type=fal-cdn-v3",
                    json={},
                )
                self._token = _parse_token(answer)
                if self._token is None:
                    raise self.http.fail(where, "fal's storage token answer lacks token/base_url")
                self._fal_origins.add(origin(self._token.base_url))
            return self._token


def upload_name(media: MediaInput, found: MediaType | None) -> str:
    """The file name fal's CDN is told: ASCII (it travels in an HTTP header), with the extension
    of what the bytes are. A local asset keeps its name where it is plain ASCII."""
    suffix = found.suffix if found else ""
    stem = media.path.stem
    plain = stem.isascii() and stem.replace("-", "").replace("_", "").isalnum()
    is_blob = media.path.name == media.sha256  # a cache object: named by its hash, no extension
    return f"{stem}{suffix}" if plain and not is_blob else f"{media.sha256[:16]}{suffix}"


def _parse_token(answer: dict[str, object]) -> _Token | None:
    token, base = answer.get("token"), answer.get("base_url")
    if not isinstance(token, str) or not isinstance(base, str) or not token or not base:
        return None
    kind = answer.get("token_type") or "Bearer"
    return _Token(f"{kind} {token}", base.rstrip("/"), _expiry(answer.get("expires_at")))


def _expiry(value: object) -> float:
    """``expires_at`` as epoch seconds (ISO 8601, UTC unless said, or a number); else 5 min."""
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return time.time() + 300.0
        return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
    return time.time() + 300.0
