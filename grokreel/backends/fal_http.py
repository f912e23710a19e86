"""The HTTP edge of the fal backend: auth, timeouts, retries, and mapping every failure once.

Everything the backend sends to fal goes through ``FalHttp``. httpx's exceptions (which carry
requests, URLs and headers) never leave this module: they become ``Transient`` (worth another
attempt, inside the retry loop) or a ``BackendError`` whose message names the shot, the endpoint
and the server's words, and never the key. Retries use stamina: exponential backoff with jitter,
honouring ``Retry-After``, bounded in attempts and total time (no waits in stamina's test mode).

Submits are special (see ``submit``): a paid request is retried only when it provably created
nothing, so a dropped connection can never turn into a second paid job. docs/faults.md has the
rule for every answer of every call.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import stamina

from ..errors import AuthError, BackendError, ShotRejected
from ..fetch import MediaHosts, OffList, Refused, TransientFetch, retry_after, stream
from .base import MAX_IN_FLIGHT

__all__ = [
    "Door",
    "FalHttp",
    "Gone",
    "NotSent",
    "RetryPolicy",
    "Transient",
    "Where",
    "origin",
    "retry_after",
]

T = TypeVar("T")
# Answers worth another attempt of a free, idempotent call (a poll, a result, a download…).
RETRY_STATUS = frozenset({408, 409, 425, 429, *range(500, 600)})
STREAM_IDLE = 60.0  # seconds a status stream may stay silent (fal's keep-alives come every ~15 s)

# stamina logs each scheduled retry at WARNING; without this, an application that configured no
# logging would print raw "stamina.retry_scheduled" lines through logging's last-resort handler.
logging.getLogger("stamina").addHandler(logging.NullHandler())


@dataclass(frozen=True)
class Where:
    """The shot and endpoint a call is made for: every error message starts with them."""

    shot: str
    endpoint: str


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds for one idempotent call's retries (stamina's test mode makes waits zero)."""

    attempts: int = 8
    timeout: float = 300.0
    wait_initial: float = 0.25
    wait_max: float = 15.0
    wait_jitter: float = 1.0
    max_retry_after: float = 60.0
    submit_attempts: int = 4


class Transient(Exception):
    """A failure worth another attempt; ``after`` is the server's Retry-After in seconds."""

    def __init__(self, message: str, after: float | None = None):
        super().__init__(message)
        self.after = after


class NotSent(Transient):
    """The request provably created nothing: the connection was never established, or fal's
    front door answered 429 without a request id."""


class Gone(BackendError):
    """A URL fal gave answers 404/410: what it pointed at (a paid clip) no longer exists."""


class Secret:
    """The API key, held so that no repr, str or f-string of an object can show it."""

    __slots__ = ("value",)

    def __init__(self, value: str):
        self.value = value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def parts(self) -> list[str]:
        """The strings that must never be shown: the key, and the halves of ``id:secret``."""
        halves = [p for p in self.value.split(":") if len(p) >= 6] if ":" in self.value else []
        return [p for p in [self.value, *halves] if p]


class Door:
    """How many submits may be on their way to fal at once. fal's front door answers 429 when
    a burst is too much: each such answer halves the limit, each accepted submit raises it by
    one again, up to ``most`` (so a burst slows down instead of failing)."""

    def __init__(self, most: int):
        self.most = self.limit = max(1, most)
        self.busy = 0
        self._turn = asyncio.Condition()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with self._turn:
            await self._turn.wait_for(lambda: self.busy < self.limit)
            self.busy += 1
        try:
            yield
        finally:
            async with self._turn:
                self.busy -= 1
                self._turn.notify_all()

    def crowded(self) -> None:
        self.limit = max(1, self.limit // 2)

    def accepted(self) -> None:
        self.limit = min(self.most, self.limit + 1)


def origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``: what messages name (never a path, query or header)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class FalHttp:
    """Calls to fal's queue, storage and CDN; holds the key and sends it only to fal's own hosts."""

    def __init__(
        self,
        key: str,
        queue_url: str,
        rest_url: str,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        hosts: MediaHosts | None = None,
        max_in_flight: int = MAX_IN_FLIGHT,
    ):
        self._key = Secret(key)
        self.queue_url, self.rest_url = queue_url.rstrip("/"), rest_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.max_in_flight = max_in_flight
        self.door = Door(max_in_flight)
        self._keyed = {origin(self.queue_url), origin(self.rest_url)}
        self.hosts = hosts or MediaHosts.from_env()

    def __repr__(self) -> str:
        return f"FalHttp(queue_url={self.queue_url!r}, rest_url={self.rest_url!r})"

    async def aclose(self) -> None:
        for name in ("_client", "_stream_client", "_submit_client"):
            if name in self.__dict__:  # made on first use only
                await self.__dict__[name].aclose()

    # -- connection pools, made on first use (a cached build never pays for TLS set-up) ----------
    @functools.cached_property
    def _tls(self) -> ssl.SSLContext:
        return httpx.create_ssl_context()  # one CA bundle load, shared by the three pools

    def _pool(self, idle: float, connections: int | None, keepalive: int) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            verify=self._tls,
            timeout=httpx.Timeout(idle, connect=min(self.timeout, 10.0)),
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=keepalive),
        )

    @functools.cached_property
    def _client(self) -> httpx.AsyncClient:
        """Polls, results, downloads and HEADs reuse connections: a poll or download per job in
        flight at once, each kept alive for the next call of the same job."""
        return self._pool(self.timeout, 2 * self.max_in_flight, self.max_in_flight)

    @functools.cached_property
    def _stream_client(self) -> httpx.AsyncClient:
        """One status stream per job in flight, apart from the pool above so that open streams
        never starve the calls that fetch finished clips. fal sends a keep-alive every ~15 s."""
        return self._pool(max(self.timeout, STREAM_IDLE), self.max_in_flight, 0)

    @functools.cached_property
    def _submit_client(self) -> httpx.AsyncClient:
        """Submits always open a fresh connection: a write on a stale keep-alive socket would
        fail in a way indistinguishable from a submit that reached fal and lost its answer."""
        return self._pool(self.timeout, None, 0)

    # -- errors ----------------------------------------------------------------------------------
    def scrub(self, text: str) -> str:
        """``text`` with the key (and each half of an ``id:secret`` key) removed, whatever a
        server chose to echo back."""
        for secret in self._key.parts():
            text = text.replace(secret, "***")
        return text

    def scrub_value(self, value: Any) -> Any:
        """``value`` (parsed JSON) with ``scrub`` applied to every string in it."""
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, list):
            return [self.scrub_value(v) for v in value]
        if isinstance(value, dict):
            return {self.scrub(str(k)): self.scrub_value(v) for k, v in value.items()}
        return value

    def fail(
        self, where: Where, message: str, cls: type[BackendError] = BackendError
    ) -> BackendError:
        """The error to raise for ``where``; the only way server words reach a message."""
        return cls(self.scrub(message), shot=where.shot, endpoint=where.endpoint)

    def refusal(self, response: httpx.Response, where: Where, what: str) -> BackendError:
        """A final non-2xx answer: 401/403 → AuthError, 422 → ShotRejected, else BackendError."""
        code, words = response.status_code, server_words(response)
        if code in (401, 403):
            message = f"the key was rejected by fal (HTTP {code} on {what}: {words}); check FAL_KEY"
            return self.fail(where, message, AuthError)
        if code == 422:
            message = f"fal rejected the request: {rejection(response)}"
            return self.fail(where, message, ShotRejected)
        return self.fail(where, f"{what} failed with HTTP {code}: {words}")

    # -- sending ---------------------------------------------------------------------------------
    def _headers(self, url: str, extra: dict[str, str] | None) -> dict[str, str]:
        keyed = {"Authorization": f"Key {self._key.value}"} if origin(url) in self._keyed else {}
        return keyed | (extra or {})

    @contextmanager
    def _mapped(self, url: str) -> Iterator[None]:
        """Turn httpx's exceptions into ours, naming only the host."""
        try:
            yield
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise NotSent(f"could not connect to {origin(url)} ({_said(exc)})") from None
        except httpx.TimeoutException:
            raise Transient(f"{origin(url)} did not answer within {self.timeout:g} s") from None
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise ValueError(f"not a usable URL: {origin(url)} ({_said(exc)})") from None
        except httpx.TransportError as exc:
            raise Transient(f"the connection to {origin(url)} was dropped ({_said(exc)})") from None

    async def send(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        client: httpx.AsyncClient | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """One attempt, no retry; transport failures raise ``Transient``/``NotSent``."""
        with self._mapped(url):
            return await (client or self._client).request(
                method, url, headers=self._headers(url, headers), **kwargs
            )

    @asynccontextmanager
    async def open_stream(self, url: str, **kwargs: Any) -> AsyncIterator[httpx.Response]:
        """``GET url`` as a stream on the streams' own pool; transport failures, also while
        reading it, raise ``Transient``/``NotSent``."""
        with self._mapped(url):
            async with self._stream_client.stream(
                "GET", url, headers=self._headers(url, None), **kwargs
            ) as response:
                yield response

    async def retrying(
        self,
        where: Where,
        what: str,
        attempt: Callable[[], Awaitable[T]],
        *,
        attempts: int | None = None,
        on: type[Transient] = Transient,
    ) -> T:
        """Run ``attempt`` until it stops raising ``on``; exhaustion is the shot's error."""
        policy = self.retry

        def backoff(exc: Exception) -> bool | float:
            if not isinstance(exc, on):
                return False
            after = getattr(exc, "after", None)
            return True if after is None else min(after, policy.max_retry_after)

        try:
            async for trial in stamina.retry_context(
                on=backoff,
                attempts=attempts or policy.attempts,
                timeout=policy.timeout,
                wait_initial=policy.wait_initial,
                wait_max=policy.wait_max,
                wait_jitter=policy.wait_jitter,
            ):
                with trial:
                    return await attempt()
        except ValueError as exc:
            raise self.fail(where, f"{what}: {exc}") from None
        except on as exc:
            raise self.fail(where, f"{what} failed after retrying: {exc}") from None
        raise AssertionError("unreachable: stamina re-raises the last failure")

    async def call(
        self,
        where: Where,
        what: str,
        method: str,
        url: str,
        *,
        retry_status: frozenset[int] = RETRY_STATUS,
        **kwargs: Any,
    ) -> httpx.Response:
        """An idempotent call, retried on transport errors and on ``retry_status`` answers
        (408/409/425/429/5xx by default, whatever headers they carry).

        Returns the first answer that is not retriable (2xx or a final refusal, for the caller to
        map); exhausting the retries raises the shot's BackendError.
        """

        async def attempt() -> httpx.Response:
            response = await self.send(method, url, **kwargs)
            if response.status_code in retry_status:
                raise Transient(
                    f"HTTP {response.status_code}: {server_words(response)}", retry_after(response)
                )
            return response

        return await self.retrying(where, what, attempt)

    async def call_json(
        self, where: Where, what: str, method: str, url: str, **kwargs: Any
    ) -> dict[str, Any]:
        """``call`` whose answer must be a 2xx JSON object."""
        response = await self.call(where, what, method, url, **kwargs)
        if not response.is_success:
            raise self.refusal(response, where, what)
        return self.body(response, where, what)

    def body(self, response: httpx.Response, where: Where, what: str) -> dict[str, Any]:
        """The answer's JSON object, scrubbed: nothing a server echoes reaches a log or a file."""
        try:
            data = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            data = None
        if not isinstance(data, dict):
            raise self.fail(
                where,
                f"{what}: fal answered HTTP {response.status_code} with "
                f"something that is not a JSON object: {_excerpt(response)}",
            )
        return self.scrub_value(data)  # type: ignore[no-any-return]

    async def download(self, where: Where, url: str, dest: Path) -> int:
        """Stream ``url`` into ``dest`` (retried from scratch on a dropped transfer); its size.
        Only media hosts are fetched from (``fetch.MediaHosts``), redirects included."""

        async def attempt() -> int:
            with self._mapped(url):
                try:
                    return await stream(
                        self._client, url, dest, self.hosts, lambda hop: self._headers(hop, None)
                    )
                except TransientFetch as exc:
                    raise Transient(str(exc), exc.after) from None

        try:
            return await self.retrying(where, "the video download", attempt)
        except Refused as exc:
            if exc.status in (404, 410):
                raise self.fail(where, f"the video at its fal URL is gone ({exc})", Gone) from None
            raise self.fail(where, f"the video download failed: {exc}") from None
        except OffList as exc:
            raise self.fail(where, str(exc)) from None
        except OSError as exc:  # the disk, not the network: full, read-only, gone
            raise self.fail(
                where, f"the video could not be written to {dest.parent}: {exc.strerror or exc}"
            ) from None

    async def submit(
        self, where: Where, url: str, body: dict[str, Any], headers: dict[str, str]
    ) -> dict[str, Any]:
        """POST a paid request. Retried only while the connection could not even be opened.

        Any failure after the request may have reached fal (a reset, a timeout, a 5xx, an answer
        we cannot read) fails the shot with a message saying so; nothing is resubmitted. A 429
        from fal's front door created nothing: the submit waits (``Retry-After``), fewer submits
        go out at once (``Door``), and it is asked again for as long as the retry policy allows.
        """
        unsent = 0

        async def attempt() -> httpx.Response:
            nonlocal unsent
            try:
                async with self.door.slot():
                    response = await self.send(
                        "POST", url, json=body, headers=headers, client=self._submit_client
                    )
            except NotSent as exc:
                unsent += 1
                if unsent >= self.retry.submit_attempts:  # nobody answers: say so, soon
                    raise self.fail(where, f"the submit failed after retrying: {exc}") from None
                raise
            if response.status_code == 429 and "x-fal-request-id" not in response.headers:
                # rate-limited at fal's door: no request was created, so asking again is safe
                self.door.crowded()
                raise NotSent(f"HTTP 429: {server_words(response)}", retry_after(response))
            if response.is_success:
                self.door.accepted()
            return response

        try:
            response = await self.retrying(where, "the submit", attempt, on=NotSent)
        except Transient as exc:  # sent, then lost: fal may have queued (and will bill) it
            raise self.fail(
                where,
                f"the submit to {origin(url)} failed after the request was "
                f"sent: {exc}. fal may have queued it; grokreel did not "
                "resubmit (check the requests page of your fal dashboard, "
                "then build again to submit anew)",
            ) from None
        return self._accepted(response, where)

    def _accepted(self, response: httpx.Response, where: Where) -> dict[str, Any]:
        if response.status_code >= 500:
            raise self.fail(
                where,
                f"fal answered the submit with HTTP {response.status_code}: "
                f"{server_words(response)}; not resubmitted automatically "
                "(fal does not bill 5xx answers): build again to retry",
            )
        if not response.is_success:
            raise self.refusal(response, where, "the submit")
        data = self.body(response, where, "the submit")
        missing = [k for k in ("request_id", "status_url", "response_url") if not data.get(k)]
        if missing:
            raise self.fail(
                where,
                f"fal accepted the submit but its answer lacks "
                f"{', '.join(missing)}: {_excerpt(response)}",
            )
        return data


def server_words(response: httpx.Response) -> str:
    """What the server said, briefly: its ``detail`` and error type, else the start of its body."""
    try:
        data = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _excerpt(response) or response.reason_phrase or "no details"
    if isinstance(data, dict):
        detail = data.get("detail") or data.get("error") or data.get("message") or data
        kind = data.get("error_type") or response.headers.get("x-fal-error-type")
        words = _detail_text(detail)
        return f"{words} ({kind})" if kind and str(kind) not in words else words
    return _detail_text(data)


def rejection(response: httpx.Response) -> str:
    """A 422's ``detail`` list as `field`: message, content-policy rejections said as such."""
    try:
        detail = response.json().get("detail")
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
        return server_words(response)
    if not isinstance(detail, list):
        return server_words(response)
    return "; ".join(_rejected_field(item) for item in detail if isinstance(item, dict))


def _rejected_field(item: dict[str, Any]) -> str:
    loc = [str(part) for part in item.get("loc") or [] if part != "body"]
    field = ".".join(loc) or "the request"
    msg = item.get("msg") or "rejected"
    if item.get("type") == "content_policy_violation":
        return f"content policy violation: `{field}` was refused ({msg})"
    return f"`{field}`: {msg}"


def _detail_text(detail: Any) -> str:
    if isinstance(detail, list):
        parts = [_rejected_field(d) if isinstance(d, dict) else str(d) for d in detail]
        return "; ".join(parts)
    return str(detail)[:500]


def _excerpt(response: httpx.Response) -> str:
    try:
        return response.text.strip()[:200]
    except (UnicodeDecodeError, httpx.ResponseNotRead):
        return ""


def _said(exc: Exception) -> str:
    return str(exc) or type(exc).__name__
