"""A fal-protocol server on loopback, for grokreel's tests and for users' own CI.

It speaks the queue protocol of fal (submit, status with queue positions and logs, result, cancel),
its storage token + CDN upload, and file downloads; videos are drawn by the animatic renderer.
``Faults`` makes it misbehave on purpose, the ways fal and networks do. Every submission and every
call is recorded, so a test can assert how many paid jobs a build created.

    with FalTestServer() as fal:
        os.environ.update(fal.env())          # FAL_KEY and the two host URLs
        ...build...
        assert len(fal.submissions) == 6
"""

from __future__ import annotations

import contextlib
import json
import random
import shutil
import socket
import struct
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pydantic import ValidationError

from .. import api
from .fal_jobs import Job, Queue

__all__ = ["Call", "FalTestServer", "Faults", "Submission"]

APP = "/xai/grok-imagine-video"
# What an injected fault can be: an HTTP status, the same status carrying ``x-fal-request-id``
# (as when fal's own runner, not its front door, answers), or a TCP reset with no answer.
FAILURES = ("429", "503", "reset")
WITH_REQUEST_ID = ("429+id", "503+id", "500+id")


@dataclass
class Faults:
    """How the server misbehaves; tests may change any field while it runs.

    Phases: submit, status, stream, result, cancel, token, upload, download, head. A failure kind is
    ``"reset"`` or an HTTP status (``"503"``), optionally carrying ``x-fal-request-id``
    (``"503+id"``).
    """

    latency: dict[str, float] = field(default_factory=dict)  # phase → seconds before answering
    queue_seconds: float = 0.0  # each job waits at least this long IN_QUEUE
    run_seconds: float = 0.0  # and runs at least this long IN_PROGRESS
    concurrency: int = 2  # jobs running at once (fal's default for new accounts)
    flaky: float = 0.0  # share of calls in ``flaky_phases`` that fail with one of ``flaky_kinds``
    flaky_phases: tuple[str, ...] = ("status", "result")
    flaky_kinds: tuple[str, ...] = FAILURES
    retry_after: float = 0.0  # the Retry-After header sent with every 429/503
    bursts: dict[str, list[str]] = field(default_factory=dict)  # phase → next failures, in order
    accept_then_reset: int = 0  # this many next submits create a job, then drop the connection
    download_rate: float | None = None  # bytes per second for file downloads (slow CDN)
    fail_prompts: dict[str, str] = field(default_factory=dict)  # prompt part → COMPLETED + error
    refuse_prompts: tuple[str, ...] = ()  # prompt part → a 422 content-policy result
    reject_key: bool = False  # answer 401 to every keyed call
    echo_key: bool = False  # a careless server: the caller's Authorization in logs and results
    video_host: str | None = None  # results point their video URL at this origin instead
    redirect_downloads: str | None = None  # CDN downloads answer 302 to this origin + path
    cancel_races: int = 0  # this many next cancels of queued jobs find them just started
    cancel_settle: float | None = 0.2  # a cancel-requested job ends cancelled this much later
    #                                    (None: it runs to the end, as fal may let it)
    stream: str = "ok"  # the status stream: "ok", "refuse" (HTTP 405) or "drop" (closed after
    #                     its first event), as a proxy that buffers or cuts long answers would
    keepalive: float = 15.0  # seconds between the stream's comment keep-alives
    # every job's video is this clip (or the clip of the job's resolution), unique per request
    stock_video: Path | dict[str, Path] | None = None
    #                                   (a load test's server: no drawing on this machine's CPU)
    seed: int = 0


@dataclass(frozen=True)
class Submission:
    """One paid job the server accepted."""

    request_id: str
    endpoint: str
    input: dict[str, Any]
    time: float


@dataclass(frozen=True)
class Call:
    """One HTTP call the server received (and the status it answered, 0 for a reset)."""

    method: str
    path: str
    phase: str
    status: int
    at: float = field(default_factory=time.monotonic)  # when it was answered


class FalTestServer:
    """fal's queue, storage and CDN on ``127.0.0.1``; ``start()``/``stop()`` or ``with``."""

    def __init__(
        self,
        *,
        key: str = "test-key",
        host: str = "127.0.0.1",
        port: int = 0,
        faults: Faults | None = None,
    ):
        self.key, self.faults = key, faults or Faults()
        self.submissions: list[Submission] = []
        self.calls: list[Call] = []
        self.tokens: set[str] = set()
        self.uploads: list[dict[str, str]] = []  # name, content_type and url of each upload
        self.arrivals: Counter[str] = Counter()  # calls per phase, counted as they arrive
        self._busy: Counter[str] = Counter()  # calls per phase being answered right now
        self._answered: dict[str, float] = defaultdict(float)  # phase → when one last ended
        self._triggers: list[tuple[str, int, Callable[[], object]]] = []
        self._address = (host, port)
        self._root = Path(tempfile.mkdtemp(prefix="grokreel-fal-"))
        self._files: dict[str, Path] = {}  # "<id>/<name>" → file
        self._lock = threading.Lock()
        self._random = random.Random(self.faults.seed)
        self.queue = Queue(self.faults, self.file_for, self.publish, self._root / "jobs")
        self._httpd: ThreadingHTTPServer | None = None
        self._url = ""

    # -- life ------------------------------------------------------------------------------------
    def start(self) -> FalTestServer:
        httpd = _Server(self._address, _Handler)
        httpd.fal = self  # type: ignore[attr-defined]
        self._httpd = httpd
        host, port = httpd.server_address[:2]
        self._url = f"http://{host}:{port}"
        threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fal-test-server",
            daemon=True,
        ).start()
        self.queue.start()
        return self

    def stop(self) -> None:
        """Stop answering, let jobs being drawn finish, and delete every file served."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        self.queue.stop()
        shutil.rmtree(self._root, ignore_errors=True)

    def __enter__(self) -> FalTestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what tests use --------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``: the queue, storage and CDN host (fixed once started)."""
        assert self._url, "start the server first"
        return self._url

    queue_url = rest_url = url

    @property
    def running(self) -> bool:
        return self._httpd is not None

    def env(self) -> dict[str, str]:
        """The environment that points grokreel at this server (and lets it download from the
        server's CDN, which a real build would refuse: it is not a fal media host)."""
        return {
            "FAL_KEY": self.key,
            "GROKREEL_FAL_QUEUE_URL": self.queue_url,
            "GROKREEL_FAL_REST_URL": self.rest_url,
            "GROKREEL_MEDIA_HOSTS": self.url,  # its CDN is on loopback: allowed explicitly
        }

    def count(self, phase: str) -> int:
        """How many calls of ``phase`` arrived (whatever they were answered)."""
        with self._lock:
            return sum(1 for c in self.calls if c.phase == phase)

    def on(self, phase: str, nth: int, action: Callable[[], object]) -> None:
        """Run ``action`` when the ``nth`` call of ``phase`` from now arrives, before it is
        answered (a test's way to kill a client at an exact moment: a result in flight…)."""
        with self._lock:
            self._triggers.append((phase, self.arrivals[phase] + nth, action))

    @contextlib.contextmanager
    def handling(self, phase: str) -> Iterator[None]:
        """Count the calls of ``phase`` being answered (see ``submits_settled``)."""
        with self._lock:
            self._busy[phase] += 1
        try:
            yield
        finally:
            with self._lock:
                self._busy[phase] -= 1
                self._answered[phase] = time.monotonic()

    def submits_settled(self, grace: float = 0.3, limit: float = 10.0) -> None:
        """Wait (at most ``limit`` s) until no submit is being answered and none was answered in
        the last ``grace`` s, so a client killed now has journaled every request it was given.
        (A kill between fal's accept and the client's journal write is the one window no
        client can close.) A submit the client sent just before this call is still on its way
        (a chain's next link goes out beside its clip's download), so the quiet starts after a
        short lead."""
        time.sleep(grace / 3)
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            with self._lock:
                quiet = time.monotonic() - self._answered["submit"] >= grace
                if not self._busy["submit"] and quiet:
                    return
            time.sleep(0.02)

    def forget_triggers(self) -> None:
        """Drop every trigger that has not fired."""
        with self._lock:
            self._triggers.clear()

    def arrived(self, phase: str) -> None:
        """Count an arriving call and fire the triggers it is due for."""
        with self._lock:
            self.arrivals[phase] += 1
            due = [t for t in self._triggers if t[:2] == (phase, self.arrivals[phase])]
            self._triggers = [t for t in self._triggers if t not in due]
        for _, _, action in due:
            action()

    def burst(self, phase: str, kind: str, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``phase`` with ``kind`` (429, 503 or reset)."""
        with self._lock:
            self.faults.bursts.setdefault(phase, []).extend([kind] * times)

    def add_file(self, path: Path) -> str:
        """Put ``path`` on the CDN as if someone uploaded it; its URL."""
        return self.publish(Path(path), Path(path).name)

    def expire_files(self) -> None:
        """Every CDN URL now answers 404, as fal's media URLs do once they expire."""
        with self._lock:
            self._files.clear()

    # -- the CDN ---------------------------------------------------------------------------------
    def publish(self, source: Path | bytes, name: str) -> str:
        """Serve ``source`` (a file or bytes) at a new CDN URL ending in ``name``."""
        slot = f"{uuid.uuid4().hex[:12]}/{name}"
        dest = self._root / "cdn" / slot
        dest.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(source, bytes):
            dest.write_bytes(source)
        else:
            shutil.copyfile(source, dest)
        with self._lock:
            self._files[slot] = dest
        return f"{self.url}/cdn/files/{slot}"

    def file_for(self, url: str) -> Path | None:
        prefix = f"{self.url}/cdn/files/"
        if not url.startswith(prefix):
            return None
        with self._lock:
            return self._files.get(url[len(prefix) :])

    # -- fault decisions (called by the handler) -------------------------------------------------
    def failure_for(self, phase: str) -> str | None:
        with self._lock:
            queued = self.faults.bursts.get(phase)
            if queued:
                return queued.pop(0)
            if phase in self.faults.flaky_phases and self._random.random() < self.faults.flaky:
                return self._random.choice(self.faults.flaky_kinds)
        return None

    def record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    def accept(self, job: Job) -> bool:
        """Record a paid job; whether its answer must be dropped (``accept_then_reset``)."""
        with self._lock:
            self.submissions.append(
                Submission(job.request_id, job.endpoint, job.input, time.time())
            )
            reset = self.faults.accept_then_reset > 0
            self.faults.accept_then_reset -= int(reset)
            return reset

    def new_token(self) -> str:
        token = uuid.uuid4().hex
        with self._lock:
            self.tokens.add(token)
        return token


class _Server(ThreadingHTTPServer):
    """A thread per call, and a listen backlog that takes a burst of submits (the stdlib's 5
    would make the kernel drop connections it had half accepted: a reset after the request was
    sent, which a client must treat as a submit that may have been queued); quiet about clients
    that hang up (killed builds do, on purpose)."""

    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """Routes one call to fal's behaviour for it, after the faults had their say."""

    protocol_version = "HTTP/1.1"
    server: ThreadingHTTPServer

    @property
    def fal(self) -> FalTestServer:
        return self.server.fal  # type: ignore[attr-defined,no-any-return]

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        """Silent: the server never prints what it is sent (headers carry keys)."""

    def do_GET(self) -> None:
        self._route("GET")

    def do_HEAD(self) -> None:
        self._route("HEAD")

    def do_POST(self) -> None:
        self._route("POST")

    def do_PUT(self) -> None:
        self._route("PUT")

    # -- routing ---------------------------------------------------------------------------------
    def _route(self, method: str) -> None:
        url = urlsplit(self.path)
        self.query = parse_qs(url.query)
        self.body = self._read_body()
        phase, handler, args = self._match(method, url.path)
        self.fal.arrived(phase)
        time.sleep(self.fal.faults.latency.get(phase, 0.0))
        failure = self.fal.failure_for(phase)
        if failure == "reset":
            self.fal.record(Call(method, url.path, phase, 0))
            return self._reset()
        if failure:
            return self._fail(method, url.path, phase, failure, args)
        if phase not in ("download", "head", "upload", "unknown") and not self._keyed():
            return self._answer(method, url.path, phase, 401, {"detail": "Invalid API key"})
        with self.fal.handling(phase):
            handler(method, url.path, phase, *args)

    def _match(self, method: str, path: str) -> tuple[str, Any, tuple[str, ...]]:
        parts = path.strip("/").split("/")
        if path.startswith(f"{APP}/requests/") and parts[4:] == ["status", "stream"]:
            phase = "stream" if method == "GET" else "unknown"
            return phase, getattr(self, f"_{phase}"), (parts[3],)
        if path.startswith(f"{APP}/requests/") and len(parts) in (4, 5):
            tail = parts[4] if len(parts) == 5 else ""
            phase = {
                ("GET", "status"): "status",
                ("GET", ""): "result",
                ("PUT", "cancel"): "cancel",
            }.get((method, tail), "unknown")
            return phase, getattr(self, f"_{phase}"), (parts[3],)
        if method == "POST" and path.startswith(f"{APP}/") and len(parts) == 3:
            return "submit", self._submit, (parts[2],)
        if method == "POST" and path == "/storage/auth/token":
            return "token", self._token, ()
        if method == "POST" and path == "/cdn/files/upload":
            return "upload", self._upload, ()
        if method in ("GET", "HEAD") and path.startswith("/cdn/files/"):
            return ("head" if method == "HEAD" else "download"), self._file, ()
        return "unknown", self._unknown, ()

    def _keyed(self) -> bool:
        given = self.headers.get("Authorization", "")
        return not self.fal.faults.reject_key and given == f"Key {self.fal.key}"

    # -- the queue -------------------------------------------------------------------------------
    def _submit(self, method: str, path: str, phase: str, endpoint: str) -> None:
        model = api.ENDPOINTS.get(endpoint)
        if model is None:
            return self._answer(method, path, phase, 404, {"detail": f"no endpoint {endpoint}"})
        try:
            data = model.model_validate(json.loads(self.body or b"null")).model_dump(mode="json")
        except (ValueError, ValidationError) as exc:
            return self._answer(method, path, phase, 422, {"detail": _detail(exc)})
        job = self.fal.queue.submit(endpoint, data)
        if self.fal.accept(job):
            self.fal.record(Call(method, path, phase, 0))
            return self._reset()
        self._answer(
            method,
            path,
            phase,
            200,
            self._urls(job)
            | {"status": "IN_QUEUE", "queue_position": self.fal.queue.position(job)},
        )

    def _urls(self, job: Job) -> dict[str, str]:
        base = f"{self.fal.url}{APP}/requests/{job.request_id}"
        return {
            "request_id": job.request_id,
            "response_url": base,
            "status_url": f"{base}/status",
            "cancel_url": f"{base}/cancel",
        }

    def _job(self, method: str, path: str, phase: str, request_id: str) -> Job | None:
        job = self.fal.queue.jobs.get(request_id)
        if job is None:
            self._answer(method, path, phase, 404, {"detail": f"Request {request_id} not found"})
        return job

    def _status(self, method: str, path: str, phase: str, request_id: str) -> None:
        job = self._job(method, path, phase, request_id)
        if job is None:
            return
        body = self._status_body(job)
        self._answer(method, path, phase, 200 if job.status == "COMPLETED" else 202, body)

    def _stream(self, method: str, path: str, phase: str, request_id: str) -> None:
        """fal's status stream: an event per change, keep-alive comments, closed after
        COMPLETED (``Faults.stream`` can refuse it or close it after the first event; a burst
        of ``"reset"`` on phase ``stream`` drops it before any)."""
        mode = self.fal.faults.stream
        if mode == "refuse":
            return self._answer(method, path, phase, 405, {"detail": "Method Not Allowed"})
        job = self._job(method, path, phase, request_id)
        if job is None:
            return
        self.fal.record(Call(method, path, phase, 200))
        self.close_connection = True  # the stream's end is the connection's end
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        with contextlib.suppress(OSError):  # the client went away: nothing to tell
            self._events(job, mode)

    def _events(self, job: Job, mode: str) -> None:
        sent, quiet = None, time.monotonic()
        while self.fal.running:
            body = self._status_body(job)
            if body != sent:
                self.wfile.write(f"data: {json.dumps(body)}\n\n".encode())
                self.wfile.flush()
                sent, quiet = body, time.monotonic()
                if body["status"] == "COMPLETED":
                    return
                if mode == "drop":
                    return  # closed before COMPLETED, as a proxy cutting a long answer does
            elif time.monotonic() - quiet >= self.fal.faults.keepalive:
                self.wfile.write(b": keep-alive\n\n")
                self.wfile.flush()
                quiet = time.monotonic()
            self.fal.queue.wait_change(0.05)

    def _status_body(self, job: Job) -> dict[str, Any]:
        """The status object of ``job`` (a poll's answer, and each event of the stream)."""
        with self.fal.queue.lock:
            body: dict[str, Any] = {
                "status": job.status,
                "request_id": job.request_id,
                "response_url": self._urls(job)["response_url"],
            }
            if job.status == "IN_QUEUE":
                body["queue_position"] = self.fal.queue.position(job)
            body["logs"] = list(job.logs) if self.query.get("logs") == ["1"] else None
            if self.fal.faults.echo_key and body["logs"] is not None:
                echo = {"message": f"auth: {self.headers.get('Authorization')}", "level": "INFO"}
                body["logs"].append(echo)
            if job.status == "COMPLETED":
                took = time.monotonic() - (job.started or 0)
                body["metrics"] = {"inference_time": round(took, 3)}
                if job.error:
                    body |= {"error": job.error["message"], "error_type": job.error["type"]}
        return body

    def _result(self, method: str, path: str, phase: str, request_id: str) -> None:
        job = self._job(method, path, phase, request_id)
        if job is None:
            return
        headers = {"x-fal-request-id": job.request_id}
        if job.status != "COMPLETED":
            body: dict[str, Any] = {"detail": "Request is still in progress"}
            return self._answer(method, path, phase, 400, body, headers)
        if job.error:
            body = {
                "detail": job.error.get("detail") or job.error["message"],
                "error_type": job.error["type"],
            }
            return self._answer(method, path, phase, job.error["code"], body, headers)
        video = dict(job.video or {})
        if self.fal.faults.echo_key:
            video["file_name"] = f"{self.headers.get('Authorization')}.mp4"
        if self.fal.faults.video_host:
            video["url"] = self.fal.faults.video_host + urlsplit(video["url"]).path
        self._answer(method, path, phase, 200, {"video": video}, headers)

    def _cancel(self, method: str, path: str, phase: str, request_id: str) -> None:
        code, status = self.fal.queue.cancel(request_id)
        self._answer(method, path, phase, code, {"status": status})

    # -- storage and CDN -------------------------------------------------------------------------
    def _token(self, method: str, path: str, phase: str) -> None:
        token = self.fal.new_token()
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
        self._answer(
            method,
            path,
            phase,
            200,
            {
                "token": token,
                "token_type": "Bearer",
                "base_url": f"{self.fal.url}/cdn",
                "expires_at": expires,
            },
        )

    def _upload(self, method: str, path: str, phase: str) -> None:
        kind, _, token = self.headers.get("Authorization", "").partition(" ")
        if kind != "Bearer" or token not in self.fal.tokens:
            return self._answer(method, path, phase, 401, {"detail": "Invalid upload token"})
        name = Path(self.headers.get("X-Fal-File-Name") or "upload.bin").name
        url = self.fal.publish(self.body, name)
        with self.fal._lock:
            self.fal.uploads.append(
                {"name": name, "content_type": self.headers.get("Content-Type", ""), "url": url}
            )
        self._answer(method, path, phase, 200, {"access_url": url})

    def _file(self, method: str, path: str, phase: str) -> None:
        if self.fal.faults.redirect_downloads:
            location = self.fal.faults.redirect_downloads + path
            return self._answer(method, path, phase, 302, {}, {"Location": location})
        found = self.fal.file_for(f"{self.fal.url}{path}")
        try:
            data = found.read_bytes() if found is not None else None
        except OSError:  # the server stopped (and cleared its files) while this call waited
            data = None
        if data is None:
            return self._answer(method, path, phase, 404, {"detail": "File not found"})
        self.fal.record(Call(method, path, phase, 200))
        self.send_response(200)
        self.send_header(
            "Content-Type", "video/mp4" if found.suffix == ".mp4" else "application/octet-stream"
        )
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if method == "GET":
            self._trickle(data)

    def _trickle(self, data: bytes) -> None:
        """Send ``data``, at ``download_rate`` bytes per second when set (a slow CDN)."""
        rate = self.fal.faults.download_rate
        step = max(1024, int(rate / 20)) if rate else 1 << 16
        for start in range(0, len(data), step):
            chunk = data[start : start + step]
            if rate:
                time.sleep(len(chunk) / rate)
            self.wfile.write(chunk)

    def _unknown(self, method: str, path: str, phase: str, *args: str) -> None:
        self._answer(method, path, phase, 404, {"detail": f"nothing at {method} {path}"})

    # -- answers ---------------------------------------------------------------------------------
    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _fail(
        self, method: str, path: str, phase: str, failure: str, args: tuple[str, ...]
    ) -> None:
        code, _, carry = failure.partition("+")
        words = {429: "Too many requests", 503: "Service temporarily unavailable"}
        headers = {"Retry-After": f"{self.fal.faults.retry_after:g}"}
        if carry == "id":
            headers["x-fal-request-id"] = args[0] if args else uuid.uuid4().hex
        body = {"detail": words.get(int(code), "Internal server error")}
        self._answer(method, path, phase, int(code), body, headers)

    def _answer(
        self,
        method: str,
        path: str,
        phase: str,
        code: int,
        body: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> None:
        self.fal.record(Call(method, path, phase, code))
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(data)

    def _reset(self) -> None:
        """Drop the connection with a TCP reset and no answer."""
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()


def _detail(exc: Exception) -> list[dict[str, Any]] | str:
    if isinstance(exc, ValidationError):
        return [
            {"loc": ["body", *e["loc"]], "msg": e["msg"], "type": e["type"]} for e in exc.errors()
        ]
    return f"the body is not valid JSON: {exc}"
