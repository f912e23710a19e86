"""The remote cache: an S3 (or S3-compatible) bucket behind a few calls, through obstore.

    s3://bucket/prefix/objects/ab/ab12…        blobs, named by their sha256
    s3://bucket/prefix/actions/cd/cd34….json   action records by job key
    s3://bucket/prefix/journal/<key>.json      claims: who pays for a job (claims.py)
    s3://bucket/prefix/journal/done/ef/….json  receipts of paid requests
    s3://bucket/prefix/uploads/ab/….json       sha256 → fal URL the bytes were uploaded to

obstore signs and retries (transport errors, 5xx, 429, with backoff); its create-only put
(``If-None-Match: *``) is what makes a claim. Endpoint and credentials come from the standard AWS
environment (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``…); they are never stored or printed:
every obstore error is translated once, here, into a ``RemoteError`` scrubbed of their values.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import RemoteError

__all__ = ["Remote", "RemoteObject", "open_remote"]

SECRETS = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID")
RETRY = {"max_retries": 10, "retry_timeout": timedelta(seconds=120)}
# the reachability check: enough retries to ride out a passing 503, few enough to fail fast
CHECK_RETRY = {"max_retries": 5, "retry_timeout": timedelta(seconds=15)}


@dataclass(frozen=True)
class RemoteObject:
    """One listed object: its name under the prefix, size and age."""

    name: str
    size: int
    modified: float
    e_tag: str | None = None


def _scrub(text: str) -> str:
    """``text`` without any credential value of the environment (obstore's words may quote
    a request)."""
    for name in SECRETS:
        value = os.environ.get(name)
        if value:
            text = text.replace(value, "***")
    return text


def _plain_url(url: str) -> tuple[str, str, str]:
    """(``s3://bucket/prefix`` without any user info, bucket, prefix); other schemes refused."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.hostname:
        raise RemoteError(
            f"the remote cache must be an s3://bucket/prefix URL, not {_scrub(url)!r}"
        )
    prefix = parts.path.strip("/")
    bucket = parts.hostname
    return f"s3://{bucket}/{prefix}".rstrip("/"), bucket, prefix


def _client_options() -> dict[str, Any]:
    """Plain HTTP only when the configured endpoint is itself http:// (MinIO, moto on loopback)."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or ""
    options: dict[str, Any] = {"timeout": "60s", "connect_timeout": "5s"}
    if endpoint.startswith("http://"):
        options["allow_http"] = True
    return options


def _s3(bucket: str, prefix: str, retry: dict[str, Any]) -> Any:
    from obstore.store import S3Store

    config: dict[str, Any] = {}
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        config["endpoint"] = endpoint
    if not (os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")):
        config["region"] = "us-east-1"
    return S3Store(
        bucket,
        prefix=prefix or None,
        config=config,
        client_options=_client_options(),
        retry_config=retry,
    )


def open_remote(url: str) -> Remote:
    """The remote cache at ``url`` (``s3://bucket/prefix``), configured by the AWS environment."""
    plain, bucket, prefix = _plain_url(url)
    try:
        return Remote(plain, _s3(bucket, prefix, RETRY), _s3(bucket, prefix, CHECK_RETRY))
    except Exception as exc:  # obstore's configuration errors
        raise RemoteError(
            f"the remote cache {plain} cannot be configured: {_scrub(str(exc))}"
        ) from None


class Remote:
    """Named objects under one bucket prefix. Every call is synchronous and retried by obstore;
    callers on the event loop run them in a thread."""

    def __init__(self, url: str, store: Any, quick: Any | None = None):
        self.url = url
        self._store = store
        self._quick = quick or store

    def __repr__(self) -> str:
        return f"Remote({self.url!r})"

    @contextmanager
    def _guard(self, what: str) -> Iterator[None]:
        try:
            yield
        except RemoteError:
            raise
        except Exception as exc:
            words = _scrub(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            raise RemoteError(
                f"the remote cache {self.url}: {what} failed ({words[:300]})"
            ) from None

    def check(self) -> None:
        """Raise a RemoteError now, before anything is paid, if the bucket cannot be listed."""
        import obstore

        try:
            next(iter(obstore.list(self._quick, "journal/", chunk_size=1)), None)
        except Exception as exc:
            words = _scrub(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            raise RemoteError(
                f"the remote cache {self.url} cannot be reached ({words[:300]}); check "
                "AWS_ENDPOINT_URL and the AWS credentials, or pass --no-remote to work offline"
            ) from None

    def read(self, name: str) -> bytes | None:
        """The object's bytes; None when there is no such object."""
        import obstore

        with self._guard(f"reading {name}"):
            try:
                return bytes(obstore.get(self._store, name).bytes())
            except FileNotFoundError:
                return None

    def head(self, name: str) -> RemoteObject | None:
        import obstore

        with self._guard(f"looking up {name}"):
            try:
                meta = obstore.head(self._store, name)
            except FileNotFoundError:
                return None
        return _listed(meta)

    def write(
        self, name: str, data: bytes, *, create: bool = False, e_tag: str | None = None
    ) -> bool:
        """Put ``data`` at ``name``; with ``create``, only if nothing is there; with ``e_tag``,
        only if the object is still that version. False when the condition failed."""
        import obstore
        from obstore.exceptions import AlreadyExistsError, PreconditionError

        mode: Any = "create" if create else ({"e_tag": e_tag} if e_tag else "overwrite")
        with self._guard(f"writing {name}"):
            try:
                obstore.put(self._store, name, data, mode=mode)
            except (AlreadyExistsError, PreconditionError):
                return False
        return True

    def upload(self, src: Path, name: str) -> None:
        import obstore

        with self._guard(f"uploading {name}"):
            obstore.put(self._store, name, src)

    def download(self, name: str, dest: Path) -> bool:
        """Stream the object into ``dest``; False when there is no such object."""
        import obstore

        with self._guard(f"downloading {name}"):
            try:
                result = obstore.get(self._store, name)
            except FileNotFoundError:
                return False
            with open(dest, "wb") as out:
                for chunk in result:
                    out.write(chunk)
        return True

    def delete(self, name: str) -> None:
        import obstore

        with self._guard(f"deleting {name}"), suppress(FileNotFoundError):
            obstore.delete(self._store, name)

    def names(self, prefix: str) -> list[RemoteObject]:
        """Every object whose name starts with ``prefix``."""
        import obstore

        with self._guard(f"listing {prefix}"):
            return [_listed(m) for batch in obstore.list(self._store, prefix) for m in batch]


def _listed(meta: Any) -> RemoteObject:
    return RemoteObject(
        meta["path"], int(meta["size"]), meta["last_modified"].timestamp(), meta.get("e_tag")
    )


def remote_url(storyboard: Path, flag: str | None = None, offline: bool = False) -> str | None:
    """The remote cache's URL: ``--remote``, else ``GROKREEL_REMOTE``, else ``remote`` under
    ``[cache]`` in grokreel.toml; None with ``--no-remote`` or when none is configured."""
    if offline:
        return None
    if flag or os.environ.get("GROKREEL_REMOTE"):
        return flag or os.environ["GROKREEL_REMOTE"]
    from ..config import load_config

    config = load_config(storyboard)
    url = config.table("cache").get("remote") if isinstance(config.table("cache"), dict) else None
    if url is not None and not isinstance(url, str):
        from ..errors import StoryboardError

        raise StoryboardError(
            [
                config.error(
                    "cache", "remote", "`remote` must be a string such as s3://bucket/prefix"
                )
            ]
        )
    return url or None
