"""The fal backend through real HTTP against the fal-protocol test server: builds and failures."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from grokreel import api
from grokreel.backends.fal import FalBackend, PollSchedule
from grokreel.backends.fal_http import retry_after
from grokreel.cache.journal import Journal
from grokreel.errors import AuthError, BackendError, ShotRejected
from grokreel.media.probe import probe
from grokreel.testing import FalTestServer

EVERY_ENDPOINT = """
    defaults: {resolution: 480p, duration: 1}
    assets: {knight: assets/knight.png, forest: assets/forest.png}
    shots:
      opening: {prompt: fog over the hills}
      arrival: {image: knight, prompt: the knight arrives}
      meeting: {references: [knight, forest], prompt: "@knight in @forest", duration: 2}
      memory: {kind: edit, video: opening, prompt: sepia}
      reveal: {kind: extend, video: meeting, prompt: pull back, duration: 2}
    cut: [opening, arrival, meeting, memory, reveal]
    output: {resolution: 480p}
"""

SIX = """
    defaults: {resolution: 480p, duration: 1}
    shots:
""" + "".join(f"      s{i}: {{prompt: shot number {i}}}\n" for i in range(6))
SIX_SHOTS = [f"s{i}" for i in range(6)]


@pytest.fixture
def six(write_board) -> Path:
    return write_board(SIX)


def errors(result) -> dict[str, str]:
    return {o.job.id: o.error for o in result.outcomes.values() if o.status == "failed"}


def test_every_endpoint_renders(build_fal, write_board, fal):
    """All five endpoints render through the queue; clips decode at their reported length."""
    result = build_fal(write_board(EVERY_ENDPOINT))
    assert result.ok, errors(result)
    assert Counter(s.endpoint for s in fal.submissions) == {e: 1 for e in api.ENDPOINTS}
    assert probe(result.output).duration == pytest.approx(1 + 1 + 2 + 1 + 4, abs=0.1)
    reveal = result.outcomes["reveal"].record
    assert reveal["video"]["duration"] == pytest.approx(4, abs=0.05)
    assert reveal["request_id"] in {s.request_id for s in fal.submissions}
    assert reveal["source_url"].startswith(fal.url)


def test_six_shots_six_submissions_and_rebuild_none(build_fal, six, fal):
    """A 6-shot board makes exactly 6 paid submissions; its rebuild makes none."""
    first = build_fal(six, SIX_SHOTS)
    assert first.ok and first.count("rendered") == 6
    again = build_fal(six, SIX_SHOTS)
    assert again.count("cached") == 6 and len(fal.submissions) == 6
    assert not list(Journal(six.parent / ".grokreel").entries())


def test_flaky_status_and_result_still_six_submissions(build_fal, six, fal):
    """With 30 % of status/result calls failing (429/503/reset) the build succeeds, paying 6."""
    fal.faults.flaky = 0.3
    result = build_fal(six, SIX_SHOTS)
    assert result.ok, errors(result)
    assert len(fal.submissions) == 6
    failed = Counter(c.status for c in fal.calls if c.phase in ("status", "result"))
    assert failed[429] + failed[503] + failed[0] > 0


def test_completed_with_error_is_a_one_line_shot_error(build_fal, six, fal):
    """A job that ends COMPLETED with an error fails its shot with the server's words."""
    fal.faults.fail_prompts["number 2"] = "GPU fell over"
    result = build_fal(six, SIX_SHOTS)
    message = errors(result)["s2"]
    assert "\n" not in message and "GPU fell over" in message
    assert "shot `s2`" in message and "xai/grok-imagine-video/text-to-video" in message
    assert result.count("rendered") == 5
    assert not list(Journal(six.parent / ".grokreel").entries())  # failed: nothing to resume


def test_content_policy_422_is_a_shot_rejection(build_fal, six, fal):
    """A 422 content-policy result names the field and says it was a content policy refusal."""
    fal.faults.refuse_prompts = ("number 4",)
    message = errors(build_fal(six, SIX_SHOTS))["s4"]
    assert "\n" not in message and "shot `s4`" in message
    assert "content policy violation: `prompt` was refused" in message
    assert "flagged by the content checker" in message


async def test_content_policy_422_raises_shot_rejected(fal_env, tmp_path, lake):
    """At the backend, a content-policy 422 is a ShotRejected (the job is over: not journaled)."""
    fal_env.faults.refuse_prompts = ("quiet lake",)
    backend = FalBackend.from_env(tmp_path)
    with pytest.raises(ShotRejected, match="content policy violation"):
        await backend.render(lake, tmp_path, lambda s: None)
    await backend.aclose()
    assert Journal(tmp_path).entries() == []


async def test_rejected_key_is_an_auth_error(fal_env, tmp_path, lake):
    """A 401 is an AuthError saying the key was rejected, and nothing is submitted."""
    fal_env.faults.reject_key = True
    backend = FalBackend.from_env(tmp_path)
    with pytest.raises(AuthError, match="the key was rejected"):
        await backend.render(lake, tmp_path, lambda s: None)
    await backend.aclose()
    assert fal_env.submissions == []


def test_missing_key_is_an_auth_error(tmp_path):
    """Without FAL_KEY (or FAL_KEY_ID + FAL_KEY_SECRET) the backend refuses to start, clearly."""
    with pytest.raises(AuthError, match="FAL_KEY is not set"):
        FalBackend.from_env(tmp_path)


async def test_key_id_and_secret_are_joined(fal_env, monkeypatch, tmp_path, lake):
    """FAL_KEY_ID and FAL_KEY_SECRET make the key `id:secret`, which fal accepts."""
    fal_env.key = "id7:s3cret"
    monkeypatch.delenv("FAL_KEY")
    monkeypatch.setenv("FAL_KEY_ID", "id7")
    monkeypatch.setenv("FAL_KEY_SECRET", "s3cret")
    backend = FalBackend.from_env(tmp_path)
    await backend.render(lake, tmp_path, lambda s: None)
    await backend.aclose()
    assert len(fal_env.submissions) == 1


@pytest.mark.parametrize("fault", ["reset-after-accept", "503"])
async def test_ambiguous_submit_failure_is_not_resubmitted(fal_env, tmp_path, fault, lake):
    """A submit that may have reached fal (reset after accept, a 5xx) fails once, clearly."""
    if fault == "503":
        fal_env.burst("submit", "503")
    else:
        fal_env.faults.accept_then_reset = 1
    backend = FalBackend.from_env(tmp_path)
    with pytest.raises(BackendError, match="not resubmitted|did not resubmit") as info:
        await backend.render(lake, tmp_path, lambda s: None)
    await backend.aclose()
    assert fal_env.count("submit") == 1
    assert "shot `lake`" in str(info.value)


async def test_refused_connection_submit_is_retried(monkeypatch, tmp_path, unused_tcp_port, lake):
    """A submit whose connection was refused never reached fal, so it is retried."""
    import stamina.instrumentation

    server = FalTestServer(port=unused_tcp_port)
    for name, value in {
        "FAL_KEY": server.key,
        "GROKREEL_FAL_POLL_INTERVAL": "0.02",
        "GROKREEL_FAL_QUEUE_URL": f"http://127.0.0.1:{unused_tcp_port}",
        "GROKREEL_MEDIA_HOSTS": f"http://127.0.0.1:{unused_tcp_port}",
    }.items():
        monkeypatch.setenv(name, value)
    retries: list[str] = []

    def come_up(details: stamina.instrumentation.RetryDetails) -> None:
        retries.append(repr(details.caused_by))
        if len(retries) == 1:
            server.start()

    stamina.instrumentation.set_on_retry_hooks([come_up])
    backend = FalBackend.from_env(tmp_path)
    try:
        result = await backend.render(lake, tmp_path, lambda s: None)
    finally:
        stamina.instrumentation.set_on_retry_hooks(None)
        await backend.aclose()
        server.stop()
    assert "could not connect" in retries[0] and len(server.submissions) == 1
    assert probe(result.path).duration == pytest.approx(1, abs=0.05)


async def test_retry_after_is_waited_for(fal_env, tmp_path, lake):
    """Outside test mode a 429's Retry-After is honoured before the next status poll."""
    import stamina

    fal_env.faults.retry_after, fal_env.faults.stream = 0.4, "refuse"  # polls
    fal_env.burst("status", "429")
    backend = FalBackend.from_env(tmp_path)
    start = time.monotonic()
    with stamina.set_testing(False):
        result = await backend.render(lake, tmp_path, lambda s: None)
    await backend.aclose()
    assert time.monotonic() - start >= 0.4
    statuses = [c.status for c in fal_env.calls if c.phase == "status"]
    assert statuses[0] == 429 and result.path.is_file()


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("3", 3.0), ("0.5", 0.5), ("", None), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)],
)
def test_retry_after_header_is_read(header, seconds):
    """Retry-After is read as seconds or as an HTTP date (a past date means now)."""
    import httpx

    response = httpx.Response(429, headers={"Retry-After": header} if header else {})
    assert retry_after(response) == seconds


async def test_dropped_downloads_are_retried(fal_env, tmp_path, lake):
    """A download cut off twice is fetched again and verified; still one submission."""
    fal_env.burst("download", "reset", 2)
    backend = FalBackend.from_env(tmp_path)
    result = await backend.render(lake, tmp_path, lambda s: None)
    await backend.aclose()
    assert fal_env.count("download") == 3 and len(fal_env.submissions) == 1
    assert result.path.stat().st_size == result.video["file_size"]


def test_poll_schedule_backs_off_in_the_queue_and_keeps_pace_while_running():
    """Queued polls start at 0.5 s and grow ×1.5 to 5 s; running polls come every 5 % of the
    time seen running, from 0.05 s up to 2 s (a finish is noticed within ~2.5 % of a run)."""
    schedule, waits, wait, seen = PollSchedule(), [], None, None
    for state in ["IN_QUEUE"] * 8:
        wait = schedule.next(wait if state == seen else None, state)
        seen = state
        waits.append(round(wait, 2))
    assert waits == [0.5, 0.75, 1.12, 1.69, 2.53, 3.8, 5.0, 5.0]
    running = [round(schedule.next(None, "IN_PROGRESS", t), 2) for t in (0, 0.5, 5, 10, 20, 60)]
    assert running == [0.05, 0.05, 0.25, 0.5, 1.0, 2.0]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "animatic"),
        ({"FAL_KEY": "k"}, "fal"),
        ({"FAL_KEY_ID": "i"}, "animatic"),
        ({"FAL_KEY_ID": "i", "FAL_KEY_SECRET": "s"}, "fal"),
    ],
)
def test_fal_is_the_default_backend_when_a_key_is_set(monkeypatch, env, expected):
    """FAL_KEY, or FAL_KEY_ID with FAL_KEY_SECRET, makes fal the default backend."""
    from grokreel.backends import default_backend

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert default_backend() == expected
