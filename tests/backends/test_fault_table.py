"""docs/faults.md, row by row: each answer of each call, injected by the shipped fal test server.

Every test is tagged with the ids of the rows it proves (``@row``); the last test checks that the
table and the tests name the same rows, so neither can drift from the other.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from grokreel import api
from grokreel.backends.base import MediaInput, RenderRequest
from grokreel.backends.fal import FalBackend, PollSchedule
from grokreel.backends.fal_http import Door
from grokreel.cache.journal import Journal
from grokreel.errors import AuthError, BackendError, ShotRejected
from grokreel.testing import FalTestServer

DOC = Path(__file__).resolve().parents[2] / "docs" / "faults.md"
ROWS: set[str] = set()
EXHAUST = 25  # more failures than the test-mode retry budget (20 attempts)


def row(*ids: str) -> Callable[[Callable[..., object]], Callable[..., object]]:
    """Mark a test as the proof of table rows ``ids``."""
    ROWS.update(ids)
    return lambda test: test


def journaled(cache: Path) -> list[str]:
    return [e.request_id for e in Journal(cache).entries()]


def tuned(fal: FalTestServer, cache: Path, **settings: object) -> FalBackend:
    """A fal backend on the test server with some of its settings changed."""
    return FalBackend(fal.key, cache, queue_url=fal.url, rest_url=fal.url, **settings)


async def fails(backend: FalBackend, request: RenderRequest, workdir: Path) -> BackendError:
    """Render, expecting the shot to fail; the error."""
    with pytest.raises(BackendError) as info:
        await backend.render(request, workdir, lambda said: None)
    return info.value


async def renders_without_paying_again(fal: FalTestServer, cache: Path, request) -> None:
    """A later build's render of the same job succeeds on the one request already paid for."""
    again = FalBackend.from_env(cache)
    try:
        result = await again.render(request, cache, lambda said: None)
    finally:
        await again.aclose()
    assert len(fal.submissions) == 1 and result.request_id == fal.submissions[0].request_id


# -- submit ---------------------------------------------------------------------------------------
@row("submit-unsent")
async def test_submit_that_cannot_connect_is_retried_and_writes_nothing(
    monkeypatch, tmp_path, unused_tcp_port, lake
):
    """No server at the queue host: every attempt is a connect failure, then one clear error."""
    monkeypatch.setenv("FAL_KEY", "k")
    monkeypatch.setenv("GROKREEL_FAL_QUEUE_URL", f"http://127.0.0.1:{unused_tcp_port}")
    backend = FalBackend.from_env(tmp_path)
    error = await fails(backend, lake, tmp_path)
    await backend.aclose()
    assert "could not connect" in str(error) and "after retrying" in str(error)
    assert journaled(tmp_path) == []


@row("submit-429-door", "submit-ok")
async def test_front_door_429_is_retried_and_the_accepted_id_is_journaled(
    backend, fal_env, tmp_path, lake
):
    """429s without a request id created nothing: the submit is retried, then journaled."""
    fal_env.burst("submit", "429", 2)
    result = await backend.render(lake, tmp_path, lambda said: None)
    assert fal_env.count("submit") == 3 and len(fal_env.submissions) == 1
    assert journaled(tmp_path) == [result.request_id]  # until the clip is stored


@row("submit-429-door")
async def test_a_burst_turned_away_at_the_door_slows_down_and_every_job_is_paid_once(
    backend, fal_env, tmp_path, text_request
):
    """Eight renders at once meet twelve 429s at fal's door (more than the four attempts an
    unreachable host gets): every one is submitted once, and the door narrowed meanwhile."""
    fal_env.burst("submit", "429", 12)
    requests = [text_request(f"lake {i}", f"lake{i}") for i in range(8)]
    results = await asyncio.gather(
        *(backend.render(r, tmp_path, lambda said: None) for r in requests)
    )
    assert len(fal_env.submissions) == 8 and fal_env.count("submit") == 20
    assert {r.request_id for r in results} == {s.request_id for s in fal_env.submissions}
    assert backend.http.door.limit < backend.http.door.most  # 12 halvings, 8 steps back up


async def test_the_door_lets_fewer_submits_out_after_429s():
    """``Door``: each 429 halves the submits out at once; accepted ones widen it again."""
    door, out, peak = Door(4), 0, 0
    door.crowded()
    door.crowded()

    async def submit() -> None:
        nonlocal out, peak
        async with door.slot():
            out += 1
            peak = max(peak, out)
            await asyncio.sleep(0.01)
            out -= 1

    await asyncio.gather(*(submit() for _ in range(3)))
    door.accepted()
    assert (peak, door.limit) == (1, 2)


@row("submit-lost")
@pytest.mark.parametrize("how", ["reset before", "accepted then reset"])
async def test_a_submit_lost_after_sending_is_never_repeated(backend, fal_env, tmp_path, lake, how):
    """A reset after the request left this machine fails the shot with exactly one submit."""
    if how == "reset before":
        fal_env.burst("submit", "reset")
    else:
        fal_env.faults.accept_then_reset = 1
    error = await fails(backend, lake, tmp_path)
    assert "fal may have queued it" in str(error) and "did not resubmit" in str(error)
    assert fal_env.count("submit") == 1 and journaled(tmp_path) == []


@row("submit-5xx")
@pytest.mark.parametrize("kind", ["503", "500+id", "429+id"])
async def test_a_5xx_submit_is_not_repeated(backend, fal_env, tmp_path, lake, kind):
    """A 5xx (or a 429 from fal's runner) on the submit fails the shot unrepeated."""
    fal_env.burst("submit", kind)
    error = await fails(backend, lake, tmp_path)
    assert f"HTTP {kind[:3]}" in str(error) and fal_env.count("submit") == 1
    assert journaled(tmp_path) == [] and fal_env.submissions == []


@row("submit-401", "status-401")
async def test_a_rejected_key_is_an_auth_error_and_keeps_paid_requests(
    backend, fal_env, tmp_path, lake, until
):
    """401 on the submit: AuthError, nothing journaled. 401 while polling a paid request:
    AuthError, and the request stays journaled for a build with a good key."""
    fal_env.faults.reject_key = True
    with pytest.raises(AuthError, match="check FAL_KEY"):
        await backend.render(lake, tmp_path, lambda said: None)
    assert journaled(tmp_path) == []
    fal_env.faults.reject_key, fal_env.faults.queue_seconds = False, 0.5

    def reject_once_queued(said: str) -> None:
        if said.startswith("queued"):
            fal_env.faults.reject_key = True

    with pytest.raises(AuthError):
        await backend.render(lake, tmp_path, reject_once_queued)
    assert len(journaled(tmp_path)) == 1
    fal_env.faults.reject_key = False
    await renders_without_paying_again(fal_env, tmp_path, lake)


@row("submit-422")
async def test_an_invalid_body_is_a_shot_rejection_naming_the_field(backend, fal_env, tmp_path):
    """fal's 422 on the submit becomes ShotRejected naming the field; nothing is journaled."""
    body = {"prompt": "a lake", "duration": 99, "resolution": "480p"}
    request = RenderRequest(
        "lake", "lake", "text-to-video", api.endpoint_id("text-to-video"), body, {}, "d" * 64
    )
    with pytest.raises(ShotRejected, match="`duration`"):
        await backend.render(request, tmp_path, lambda said: None)
    assert journaled(tmp_path) == []


# -- status ---------------------------------------------------------------------------------------
@row("status-retry")
@pytest.mark.parametrize("kind", ["429", "503", "503+id", "500+id", "reset"])
async def test_status_faults_are_retried(backend, fal_env, tmp_path, lake, kind):
    """Passing status faults, with or without a request id, cost nothing: one submission."""
    fal_env.faults.stream = "refuse"  # polls only
    fal_env.burst("status", kind, 3)
    await backend.render(lake, tmp_path, lambda said: None)
    assert fal_env.count("status") >= 4 and len(fal_env.submissions) == 1


@row("status-waiting")
async def test_a_request_past_the_deadline_stays_journaled(fal_env, tmp_path, lake):
    """Queued and running are polled; past the deadline the shot fails, request kept."""
    fal_env.faults.queue_seconds, fal_env.faults.run_seconds = 0.2, 5.0
    backend = tuned(fal_env, tmp_path, poll=PollSchedule.scaled(0.02, deadline=0.6))
    said: list[str] = []
    with pytest.raises(BackendError, match="has not finished after 0.6 s; it stays journaled"):
        await backend.render(lake, tmp_path, said.append)
    await backend.aclose()
    assert any(s.startswith("queued") for s in said) and any(s.startswith("running") for s in said)
    assert len(journaled(tmp_path)) == 1 and len(fal_env.submissions) == 1


@row("status-stream")
@pytest.mark.parametrize("mode", ["ok", "refuse", "drop", "reset"])
async def test_the_status_stream_or_its_fallback_follows_the_request(
    backend, fal_env, tmp_path, lake, mode
):
    """The stream notices the finish alone; refused, dropped or reset, polls take over and
    the one paid request is fetched."""
    fal_env.faults.queue_seconds = 0.3
    if mode == "reset":
        fal_env.burst("stream", "reset", 3)
    else:
        fal_env.faults.stream = mode
    result = await backend.render(lake, tmp_path, lambda said: None)
    assert len(fal_env.submissions) == 1 and result.request_id == fal_env.submissions[0].request_id
    assert fal_env.count("stream") >= 1
    assert (fal_env.count("status") == 0) == (mode == "ok")


@row("status-stream")
async def test_a_journaled_request_is_resumed_when_its_stream_drops(
    backend, fal_env, tmp_path, lake, entry_for
):
    """An earlier build's request, followed again through a stream that drops: no new submit."""
    fal_env.faults.stream, fal_env.faults.queue_seconds = "drop", 0.3
    job = fal_env.queue.submit(lake.endpoint, dict(lake.input))
    Journal(tmp_path).record(entry_for(fal_env, lake.key, job.request_id))
    result = await backend.render(lake, tmp_path, lambda said: None)
    assert result.request_id == job.request_id and fal_env.submissions == []
    assert fal_env.count("stream") >= 1 and fal_env.count("status") >= 1


@row("status-failed")
async def test_completed_with_error_fails_and_clears(backend, fal_env, tmp_path, lake):
    """The status reports the job failed: the shot fails with fal's words, the entry is gone."""
    fal_env.faults.fail_prompts = {"lake": "out of GPUs"}
    error = await fails(backend, lake, tmp_path)
    assert "out of GPUs" in str(error) and journaled(tmp_path) == []


@row("status-404")
async def test_a_request_fal_does_not_know_is_cleared(backend, fal_env, tmp_path, lake, entry_for):
    """A 404 on the status of a journaled request: the shot fails and the entry is cleared."""
    Journal(tmp_path).record(entry_for(fal_env, lake.key, "unknown-1"))
    error = await fails(backend, lake, tmp_path)
    assert "does not know request unknown-1" in str(error) and journaled(tmp_path) == []


# -- result ---------------------------------------------------------------------------------------
@row("result-retry")
@pytest.mark.parametrize("kind", ["503+id", "429+id", "500+id", "400+id", "503", "reset"])
async def test_result_faults_of_a_finished_job_are_retried(backend, fal_env, tmp_path, lake, kind):
    """The status said COMPLETED: result faults, even with a request id, are retried."""
    fal_env.burst("result", kind, 3)
    result = await backend.render(lake, tmp_path, lambda said: None)
    assert fal_env.count("result") == 4 and len(fal_env.submissions) == 1
    assert result.path.stat().st_size > 0


# -- download -------------------------------------------------------------------------------------
@row("download-retry")
async def test_download_faults_are_retried(backend, fal_env, tmp_path, lake):
    """Passing download faults (5xx, a dropped transfer) are retried: one submission."""
    fal_env.burst("download", "503", 2)
    fal_env.burst("download", "reset", 1)
    await backend.render(lake, tmp_path, lambda said: None)
    assert fal_env.count("download") == 4 and len(fal_env.submissions) == 1


# -- outcomes shared by several rows --------------------------------------------------------------
KEPT = [  # (row, phase, failure, times, what the message says)
    ("status-retry", "status", "503+id", EXHAUST, "stays journaled: build again to resume it"),
    ("result-retry", "result", "503+id", EXHAUST, "finished and is paid for"),
    ("result-garbled", "result", "200", 1, "is not a video"),
    ("download-retry", "download", "503+id", EXHAUST, "without paying again"),
    ("download-bad", "download", "200", 1, "bytes, fal said"),
]
ROWS.update(case[0] for case in KEPT)


@pytest.mark.parametrize(("_row", "phase", "kind", "times", "said"), KEPT, ids=[k[0] for k in KEPT])
async def test_a_fault_that_persists_keeps_the_paid_request(
    backend, fal_env, tmp_path, lake, _row, phase, kind, times, said
):
    """Out of retries (or a 2xx that is not the clip): the shot fails saying the request is
    kept, and the next build gets the clip with no new submission."""
    if phase == "status":
        fal_env.faults.stream = "refuse"  # polls only: the faults are on the polls
    fal_env.burst(phase, kind, times)
    error = await fails(backend, lake, tmp_path)
    assert said in str(error) and len(journaled(tmp_path)) == 1
    await renders_without_paying_again(fal_env, tmp_path, lake)


CLEARED = [  # (row, phase, failure, error class, what the message says)
    ("result-404", "result", "404+id", BackendError, "HTTP 404"),
    ("result-422", "result", "422+id", ShotRejected, "fal rejected the request"),
    ("download-gone", "download", "404", BackendError, "is gone"),
]
ROWS.update(case[0] for case in CLEARED)


@pytest.mark.parametrize(
    ("_row", "phase", "kind", "error", "said"), CLEARED, ids=[c[0] for c in CLEARED]
)
async def test_a_final_answer_ends_the_request(
    backend, fal_env, tmp_path, lake, _row, phase, kind, error, said
):
    """A 404 or 422 for the request, or a video URL that is gone: the entry is cleared."""
    fal_env.burst(phase, kind)
    with pytest.raises(error, match=said):
        await backend.render(lake, tmp_path, lambda said: None)
    assert journaled(tmp_path) == []


@row("download-disk")
async def test_a_full_disk_keeps_the_request(backend, fal_env, tmp_path, lake):
    """A workdir on a full filesystem fails the shot naming the folder; the request is kept."""
    full = tmp_path / "full"
    full.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(full)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        error = await fails(backend, lake, full)
    finally:
        subprocess.run(["umount", str(full)], check=False)
    assert f"could not be written to {full}" in str(error) and "No space" in str(error)
    assert len(journaled(tmp_path)) == 1
    await renders_without_paying_again(fal_env, tmp_path, lake)


# -- cancel (Ctrl-C) ------------------------------------------------------------------------------
@row("cancel-ok")
async def test_ctrl_c_cancels_a_queued_request(backend, fal_env, tmp_path, lake, interrupt):
    """OK to a cancel: the request is over, unbilled, and forgotten."""
    fal_env.faults.queue_seconds = 60
    said: list[str] = []
    await interrupt(backend, lake, tmp_path, said, "queued")
    assert "cancelled queued request" in said[-1] and journaled(tmp_path) == []


@row("cancel-requested")
@pytest.mark.parametrize(
    ("settle", "expect"),
    [(0.1, "cancelled queued request"), (None, "finished before the cancel took effect")],
)
async def test_a_cancel_that_races_the_start_is_followed_until_it_settles(
    backend, fal_env, tmp_path, lake, interrupt, settle, expect
):
    """CANCELLATION_REQUESTED: the status is followed. Ended cancelled → forgotten; ended with a
    clip → kept, and the next build fetches it without a second submission."""
    fal_env.faults.queue_seconds, fal_env.faults.run_seconds = 60, 0.2
    fal_env.faults.cancel_races, fal_env.faults.cancel_settle = 1, settle
    said: list[str] = []
    await interrupt(backend, lake, tmp_path, said, "queued")
    assert expect in said[-1]
    if settle is None:
        assert len(journaled(tmp_path)) == 1
        await renders_without_paying_again(fal_env, tmp_path, lake)
    else:
        assert journaled(tmp_path) == []


@row("cancel-requested")
async def test_an_unsettled_cancel_is_followed_by_the_next_build(
    fal_env, tmp_path, lake, interrupt
):
    """A cancel still pending when Ctrl-C gives up is marked; the next build sees it ended
    cancelled and submits anew instead of failing (the cancelled one was not billed)."""
    fal_env.faults.queue_seconds, fal_env.faults.cancel_races = 60, 1
    fal_env.faults.cancel_settle, fal_env.faults.run_seconds = 1.0, 5.0
    backend = tuned(fal_env, tmp_path, poll=PollSchedule.scaled(0.02), cancel_wait=0.2)
    said: list[str] = []
    await interrupt(backend, lake, tmp_path, said, "queued")
    await backend.aclose()
    assert "not settled" in said[-1] and Journal(tmp_path).entries()[0].cancel_requested
    fal_env.faults.queue_seconds = 0
    again = FalBackend.from_env(tmp_path)
    resumed: list[str] = []
    await again.render(lake, tmp_path, resumed.append)
    await again.aclose()
    assert any("cancelled unbilled; submitting anew" in s for s in resumed)
    billed = [s for s in fal_env.submissions if not fal_env.queue.jobs[s.request_id].cancelled]
    assert len(fal_env.submissions) == 2 and len(billed) == 1


@row("cancel-refused", "running-interrupted")
@pytest.mark.parametrize(("when", "fault"), [("queued", "503"), ("running", None)])
async def test_a_request_not_cancelled_stays_for_the_next_build(
    backend, fal_env, tmp_path, lake, interrupt, when, fault
):
    """A cancel that fails, or a request already running (no cancel sent), stays journaled;
    the next build resumes it without a new submission."""
    fal_env.faults.queue_seconds = 0.3 if when == "queued" else 0
    fal_env.faults.run_seconds = 0.5
    if fault:
        fal_env.burst("cancel", fault)
    said: list[str] = []
    await interrupt(backend, lake, tmp_path, said, when)
    assert "stays journaled" in said[-1] and len(journaled(tmp_path)) == 1
    assert fal_env.count("cancel") == (1 if fault else 0)
    await renders_without_paying_again(fal_env, tmp_path, lake)


# -- uploads --------------------------------------------------------------------------------------
@pytest.fixture
def knight_request(board_dir: Path) -> RenderRequest:
    """An image-to-video request whose image is a local file (so it must be uploaded)."""
    path = board_dir / "assets" / "knight.png"
    body = api.normalize_input(
        "image-to-video",
        {"prompt": "walk", "image_url": "file:knight", "duration": 1, "resolution": "480p"},
    )
    media = {"file:knight": MediaInput("file:knight", path, "e" * 64)}
    return RenderRequest(
        "walk", "walk", "image-to-video", api.endpoint_id("image-to-video"), body, media, "e" * 64
    )


@row("upload-retry")
@pytest.mark.parametrize("phase", ["token", "upload"])
async def test_upload_faults_are_retried_and_nothing_is_paid_when_they_persist(
    backend, fal_env, tmp_path, knight_request, phase
):
    """Passing token/upload faults are retried; persistent ones fail before any submit."""
    fal_env.burst(phase, "503", 2)
    await backend.render(knight_request, tmp_path, lambda said: None)
    assert fal_env.count(phase) == 3 and len(fal_env.submissions) == 1
    fresh = FalBackend.from_env(tmp_path / "other")
    fal_env.burst(phase, "500+id", EXHAUST)
    error = await fails(fresh, knight_request, tmp_path)
    await fresh.aclose()
    assert "after retrying" in str(error) and len(fal_env.submissions) == 1


@row("upload-refused")
@pytest.mark.parametrize(("kind", "error"), [("401", AuthError), ("400", BackendError)])
async def test_a_refused_upload_fails_before_the_submit(
    backend, fal_env, tmp_path, knight_request, kind, error
):
    """A 4xx from the storage upload fails the shot before anything is paid."""
    fal_env.burst("upload", kind)
    with pytest.raises(error):
        await backend.render(knight_request, tmp_path, lambda said: None)
    assert fal_env.submissions == [] and journaled(tmp_path) == []


@row("head-reuse")
async def test_an_upstream_url_that_fails_its_check_is_uploaded_instead(
    backend, fal_env, tmp_path, knight_request
):
    """An upstream clip's fal URL answering 503 to the HEAD is replaced by an upload."""
    path = knight_request.media["file:knight"].path
    url = fal_env.add_file(path)
    media = {"file:knight": MediaInput("file:knight", path, "e" * 64, url)}
    request = RenderRequest(**(vars(knight_request) | {"media": media}))
    fal_env.burst("head", "503")
    await backend.render(request, tmp_path, lambda said: None)
    assert fal_env.count("head") == 1 and fal_env.count("upload") == 1
    assert fal_env.submissions[0].input["image_url"] != url


def test_every_row_of_the_table_has_a_test():
    """docs/faults.md and this module name the same rows."""
    ids = set(re.findall(r"^\| ([a-z0-9-]+) \|", DOC.read_text(), re.M)) - {"id"}
    assert ids == ROWS
