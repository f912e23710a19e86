"""The fal-protocol test server speaks fal's queue, storage and CDN protocol, faults included."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from grokreel.media.probe import probe
from grokreel.testing import FalTestServer, Faults

APP = "xai/grok-imagine-video"
TEXT = {"prompt": "a lighthouse at night", "duration": 1, "resolution": "480p"}


@pytest.fixture
def fal() -> Iterator[FalTestServer]:
    with FalTestServer(key="k-1") as server:
        yield server


@pytest.fixture
def http(fal: FalTestServer) -> Iterator[httpx.Client]:
    """A client that sends the server's key (as grokreel's backend does)."""
    with httpx.Client(base_url=fal.url, headers={"Authorization": "Key k-1"}, timeout=10) as c:
        yield c


def submit(http: httpx.Client, endpoint: str = "text-to-video", body: dict | None = None) -> dict:
    response = http.post(f"/{APP}/{endpoint}", json=body or TEXT)
    assert response.status_code == 200, response.text
    return response.json()


def wait_done(http: httpx.Client, answer: dict) -> httpx.Response:
    """Poll the status URL (bounded) until it answers 200."""
    for _ in range(500):
        status = http.get(answer["status_url"], params={"logs": "1"})
        if status.status_code == 200:
            return status
        assert status.status_code == 202
        time.sleep(0.01)
    raise AssertionError("the job never completed")


def stream_lines(http: httpx.Client, answer: dict) -> list[str]:
    """Every line of the request's status stream, read until the server closes it."""
    with http.stream("GET", f"{answer['status_url']}/stream", params={"logs": "1"}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream"
        return list(response.iter_lines())


def test_the_status_stream_sends_each_change_and_closes_after_completed(fal, http):
    """The stream: a data line per change (queued → running → completed), keep-alive
    comments between, and the end of the answer right after COMPLETED."""
    fal.faults.queue_seconds, fal.faults.keepalive = 0.3, 0.05
    lines = stream_lines(http, submit(http))
    events = [json.loads(line[5:]) for line in lines if line.startswith("data:")]
    states = [e["status"] for e in events]
    assert states[0] == "IN_QUEUE" and states[-1] == "COMPLETED" and "IN_PROGRESS" in states
    assert events[-1]["logs"][-1]["message"] == "done"
    assert any(line.startswith(": keep-alive") for line in lines)
    assert [c.phase for c in fal.calls].count("stream") == 1


def test_the_status_stream_can_be_refused_or_dropped(fal, http):
    """``Faults.stream``: refused with a 405, or closed right after its first event."""
    fal.faults.queue_seconds = 0.3
    answer = submit(http)
    fal.faults.stream = "refuse"
    assert http.get(f"{answer['status_url']}/stream").status_code == 405
    fal.faults.stream = "drop"
    lines = [line for line in stream_lines(http, answer) if line]
    assert len(lines) == 1 and json.loads(lines[0][5:])["status"] == "IN_QUEUE"


def test_submit_poll_fetch_and_download(fal, http, tmp_path):
    """A job goes queued → completed; its result is a real video served by the CDN."""
    answer = submit(http)
    assert set(answer) >= {"request_id", "status_url", "response_url", "cancel_url"}
    assert answer["status_url"] == f"{fal.url}/{APP}/requests/{answer['request_id']}/status"
    done = wait_done(http, answer).json()
    assert done["status"] == "COMPLETED" and done["logs"][-1]["message"] == "done"
    result = http.get(answer["response_url"])
    assert result.headers["x-fal-request-id"] == answer["request_id"]
    video = result.json()["video"]
    (tmp_path / "clip.mp4").write_bytes(httpx.get(video["url"]).content)
    info = probe(tmp_path / "clip.mp4")
    assert (info.width, info.height, video["file_size"]) == (854, 480, info.size)
    assert [s.endpoint for s in fal.submissions] == ["text-to-video"]


def test_queue_positions_and_concurrency(fal, http):
    """With one runner, later jobs wait IN_QUEUE with 0-based positions and a 202."""
    fal.faults.concurrency, fal.faults.run_seconds = 1, 1.0
    answers = [submit(http, body=TEXT | {"prompt": f"job {i}"}) for i in range(3)]
    deadline = time.monotonic() + 5  # the dispatcher starts the first job within a tick
    while fal.queue.counts() != {"IN_PROGRESS": 1, "IN_QUEUE": 2}:
        assert time.monotonic() < deadline, fal.queue.counts()
        time.sleep(0.01)
    last = http.get(answers[2]["status_url"])
    assert last.status_code == 202 and last.json() | {"queue_position": 1} == last.json()


def test_a_wrong_key_is_401(fal):
    """Keyed calls without the right key are refused with 401, and nothing is queued."""
    response = httpx.post(
        f"{fal.url}/{APP}/text-to-video", json=TEXT, headers={"Authorization": "Key nope"}
    )
    assert response.status_code == 401 and fal.submissions == []


def test_invalid_input_is_422_with_a_detail_list(http):
    """A body the endpoint's schema refuses is a 422 naming the field, like fal's."""
    response = http.post(f"/{APP}/text-to-video", json=TEXT | {"duration": 99})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "duration"]


@pytest.mark.parametrize(
    ("faults", "expected"),
    [
        (Faults(fail_prompts={"lighthouse": "out of GPUs"}), (500, "generation_error")),
        (Faults(refuse_prompts=("lighthouse",)), (422, "content_policy_violation")),
    ],
)
def test_failed_jobs_complete_with_an_error(http, fal, faults, expected):
    """There is no FAILED: a failed job is COMPLETED with an error, and its result is the error."""
    fal.faults.fail_prompts, fal.faults.refuse_prompts = faults.fail_prompts, faults.refuse_prompts
    answer = submit(http)
    done = wait_done(http, answer).json()
    assert done["status"] == "COMPLETED" and done["error_type"] == expected[1]
    result = http.get(answer["response_url"])
    assert (result.status_code, result.json()["error_type"]) == expected


def test_inputs_must_be_on_its_own_cdn(http):
    """An input URL the server does not host makes the job fail as a file download error."""
    answer = submit(http, "image-to-video", TEXT | {"image_url": "https://example.com/x.png"})
    wait_done(http, answer)
    result = http.get(answer["response_url"])
    assert result.status_code == 422 and "Failed to download" in result.text


def test_cancel_answers_like_fal(fal, http):
    """Cancel: queued → OK (removed), finished → ALREADY_COMPLETED, unknown → NOT_FOUND."""
    fal.faults.queue_seconds = 60
    queued = submit(http)
    assert http.put(queued["cancel_url"]).json()["status"] == "OK"
    assert fal.queue.jobs[queued["request_id"]].cancelled
    fal.faults.queue_seconds = 0
    done = submit(http, body=TEXT | {"prompt": "another"})
    wait_done(http, done)
    assert http.put(done["cancel_url"]).json()["status"] == "ALREADY_COMPLETED"
    gone = http.put(f"/{APP}/requests/nope/cancel")
    assert (gone.status_code, gone.json()["status"]) == (404, "NOT_FOUND")


def test_storage_token_upload_and_download(fal, http, board_dir):
    """Token, raw-bytes upload with it, and the access URL serves the same bytes."""
    token = http.post("/storage/auth/token", params={"storage_type": "fal-cdn-v3"}, json={})
    auth = token.json()
    data = (board_dir / "assets" / "knight.png").read_bytes()
    upload = httpx.post(
        f"{auth['base_url']}/files/upload",
        content=data,
        headers={
            "Authorization": f"{auth['token_type']} {auth['token']}",
            "Content-Type": "image/png",
            "X-Fal-File-Name": "knight.png",
        },
    )
    url = upload.json()["access_url"]
    assert url.endswith("/knight.png") and httpx.get(url).content == data
    assert httpx.head(url).headers["content-length"] == str(len(data))
    fal.expire_files()
    assert httpx.get(url).status_code == 404


def test_upload_needs_a_token(fal):
    """An upload without a storage token is refused."""
    response = httpx.post(
        f"{fal.url}/cdn/files/upload", content=b"x", headers={"Authorization": "Bearer forged"}
    )
    assert response.status_code == 401


def test_bursts_send_retry_after_and_resets_drop_the_connection(fal, http):
    """Injected 429/503 carry Retry-After; a reset answers nothing at all."""
    fal.faults.retry_after = 2
    fal.burst("status", "429")
    fal.burst("status", "reset")
    answer = submit(http)
    limited = http.get(answer["status_url"])
    assert limited.status_code == 429 and limited.headers["retry-after"] == "2"
    with pytest.raises(httpx.TransportError):
        http.get(answer["status_url"])
    assert http.get(answer["status_url"]).status_code in (200, 202)
    assert [c.status for c in fal.calls if c.phase == "status"][:2] == [429, 0]


def test_accept_then_reset_creates_the_job_but_answers_nothing(fal, http):
    """The ambiguous submit: the job exists (and would be billed) but the client never hears."""
    fal.faults.accept_then_reset = 1
    with pytest.raises(httpx.TransportError):
        http.post(f"/{APP}/text-to-video", json=TEXT)
    assert len(fal.submissions) == 1


def test_latency_and_slow_downloads(fal, http):
    """Per-phase latency delays answers; a download rate throttles the CDN."""
    fal.faults.latency["token"] = 0.2
    start = time.monotonic()
    http.post("/storage/auth/token", json={})
    assert time.monotonic() - start >= 0.2
    url = fal.add_file(Path(__file__))
    fal.faults.download_rate = 20_000
    start = time.monotonic()
    httpx.get(url)
    assert time.monotonic() - start >= Path(__file__).stat().st_size / 20_000 * 0.9


def test_runs_as_a_module_on_a_given_port(unused_tcp_port):
    """`python -m grokreel.testing --port N` serves on N and prints the environment to use."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "grokreel.testing",
            "--port",
            str(unused_tcp_port),
            "--key",
            "ci-key",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        lines = [proc.stdout.readline() for _ in range(3)]
        assert f"GROKREEL_FAL_QUEUE_URL=http://127.0.0.1:{unused_tcp_port}\n" in "".join(lines)
        token = httpx.post(
            f"http://127.0.0.1:{unused_tcp_port}/storage/auth/token",
            json={},
            headers={"Authorization": "Key ci-key"},
        )
        assert token.status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)
