"""The fal test server's answers: each call routed to fal's behaviour, after the faults."""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from pydantic import ValidationError

from .. import api
from .fal_faults import APP, Call
from .fal_jobs import Job

if TYPE_CHECKING:
    from .fal_server import FalTestServer

__all__ = ["Handler", "Server"]


class Server(ThreadingHTTPServer):
    """A thread per call, and a listen backlog that takes a burst of submits (the stdlib's 5
    would make the kernel drop connections it had half accepted: a reset after the request was
    sent, which a client must treat as a submit that may have been queued); quiet about clients
    that hang up (killed builds do, on purpose)."""

    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class Handler(BaseHTTPRequestHandler):
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
