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
import random
import shutil
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

from .fal_faults import Call, Faults, Submission
from .fal_handler import Handler, Server
from .fal_jobs import Job, Queue

__all__ = ["Call", "FalTestServer", "Faults", "Submission"]


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
        httpd = Server(self._address, Handler)
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
