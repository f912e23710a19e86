"""A real headless Chromium (from the system's packages), driven over the DevTools protocol.

`PageReport` is what a person would notice: console errors, failed loads, and the answers of a
small checker script run in the loaded page. No browser is downloaded: without a system Chromium
the browser tests skip and say so (`.ci/run` installs it).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
# Runs in the page: every image decoded, every video's metadata loaded, what the cards hold.
CHECKER = """
(async () => {
  const settle = (v) => v.readyState >= 1 ? Promise.resolve(true) : new Promise((ok) => {
    v.addEventListener('loadedmetadata', () => ok(true), {once: true});
    v.addEventListener('error', () => ok(false), {once: true});
    v.load();
  });
  const videos = [...document.querySelectorAll('video')];
  const loaded = await Promise.all(videos.map(settle));
  const images = [...document.querySelectorAll('img')];
  return {
    cards: document.querySelectorAll('article.shot').length,
    images: images.length,
    broken_images: images.filter((i) => !(i.complete && i.naturalWidth > 0)).map((i) => i.src),
    images_without_alt: images.filter((i) => !i.alt).length,
    videos: videos.length,
    broken_videos: videos.filter((v, n) => !loaded[n]).map((v) => v.src),
    scripts: document.querySelectorAll('script').length,
    prompts: [...document.querySelectorAll('pre.prompt')].map((p) => p.textContent),
    sources: [...images, ...videos].map((e) => e.getAttribute('src')),
    headings: [...document.querySelectorAll('h1, h2, h3')].map((h) => h.textContent.trim()),
  };
})()
"""


@dataclass
class PageReport:
    """What loading one page showed."""

    console_errors: list[str] = field(default_factory=list)
    checks: dict[str, Any] = field(default_factory=dict)


def find_browser() -> str | None:
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The DevTools websocket of one headless Chromium for the session."""
    binary = find_browser()
    if binary is None:
        pytest.skip("no Chromium binary on PATH (apt-get install chromium; .ci/run does)")
    pytest.importorskip("websockets")
    profile = tmp_path_factory.mktemp("chromium-profile")
    proc = subprocess.Popen(
        [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--remote-debugging-port=0", "--allow-file-access-from-files",
         f"--user-data-dir={profile}", "about:blank"],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        yield _devtools_url(proc)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _devtools_url(proc: subprocess.Popen[str]) -> str:
    assert proc.stderr is not None
    for line in proc.stderr:
        found = re.search(r"DevTools listening on (ws://\S+)", line)
        if found:
            return found.group(1)
    raise RuntimeError(f"Chromium exited ({proc.wait()}) before opening DevTools")


@pytest.fixture
def load_page(browser: str):
    """Open a file in a fresh tab, wait for it to load, run the checker; a PageReport."""

    def load(page: Path, timeout: float = 60.0) -> PageReport:
        return _Tab(browser, timeout).open(page.resolve().as_uri())

    return load


class _Tab:
    """One DevTools session over the browser's websocket (flattened target sessions)."""

    def __init__(self, url: str, timeout: float):
        self.url = url
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        self.next_id = 0
        self.session: str | None = None
        self.report = PageReport()
        self.loaded = False

    def open(self, url: str) -> PageReport:
        from websockets.sync.client import connect

        with connect(self.url, max_size=None, open_timeout=self.timeout) as self.ws:
            return self._load(url)

    def _load(self, url: str) -> PageReport:
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        attached = self.call("Target.attachToTarget", targetId=target, flatten=True)
        self.session = attached["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable")
        self.call("Page.navigate", url=url)
        while not self.loaded:
            self._event(self._receive())
        result = self.call(
            "Runtime.evaluate", expression=CHECKER, awaitPromise=True, returnByValue=True
        )
        self.report.checks = result["result"]["value"]
        self.session = None
        self.call("Target.closeTarget", targetId=target)
        return self.report

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params}
        if self.session:
            message["sessionId"] = self.session
        self.ws.send(json.dumps(message))
        while True:
            reply = self._receive()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self._event(reply)

    def _receive(self) -> dict[str, Any]:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the page did not finish loading in time")
        return json.loads(self.ws.recv(timeout=left))

    def _event(self, event: dict[str, Any]) -> None:
        method, params = event.get("method"), event.get("params", {})
        if method == "Page.loadEventFired":
            self.loaded = True
        elif method == "Runtime.exceptionThrown":
            self.report.console_errors.append(str(params["exceptionDetails"].get("text")))
        elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            self.report.console_errors.append(json.dumps(params.get("args")))
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            entry = params["entry"]
            self.report.console_errors.append(f"{entry.get('text')} {entry.get('url', '')}")
