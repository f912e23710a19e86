"""The fal backend's paid-request life: journal, resume, Ctrl-C, uploads and URL reuse."""

from __future__ import annotations

import asyncio

import pytest

from grokreel import api
from grokreel.backends.base import RenderRequest
from grokreel.backends.fal import FalBackend
from grokreel.cache.journal import Journal
from grokreel.errors import BackendError

REUSE = """
    defaults: {resolution: 480p, duration: 1}
    assets: {knight: assets/knight.png}
    shots:
      a: {image: knight, prompt: first, duration: 2}
      b: {image: knight, prompt: second}
      c: {kind: extend, video: a, prompt: onward, duration: 2}
"""


async def test_request_id_is_journaled_before_anything_else(
    backend, fal_env, tmp_path, lake, until
):
    """By the time a render reports `queued`, its request id is on disk, with fal's URLs."""
    fal_env.faults.queue_seconds = 60
    said: list[str] = []
    task = asyncio.create_task(backend.render(lake, tmp_path, said.append))
    await until(lambda: any(s.startswith("queued") for s in said))
    entry = Journal(tmp_path).get(lake.key)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert entry is not None and entry.request_id == fal_env.submissions[0].request_id
    assert entry.status_url.endswith(f"/requests/{entry.request_id}/status")
    assert entry.shot == "lake" and entry.endpoint == "xai/grok-imagine-video/text-to-video"


async def test_ctrl_c_cancels_a_queued_request(backend, fal_env, tmp_path, lake, interrupt):
    """Ctrl-C while queued cancels the request at fal (not billed) and forgets it."""
    fal_env.faults.queue_seconds = 60
    said: list[str] = []
    await interrupt(backend, lake, tmp_path, said, "queued")
    assert fal_env.count("cancel") == 1
    assert fal_env.queue.jobs[fal_env.submissions[0].request_id].cancelled
    assert Journal(tmp_path).entries() == []
    assert any("cancelled queued request" in s for s in said)


async def test_ctrl_c_during_submit_still_cancels_the_request(
    backend, fal_env, tmp_path, lake, interrupt
):
    """A Ctrl-C that lands mid-submit lets the submit finish, then cancels what it queued."""
    fal_env.faults.queue_seconds = 60
    fal_env.faults.latency["submit"] = 0.3
    await interrupt(backend, lake, tmp_path, said := [], "submitting")
    assert len(fal_env.submissions) == 1 and fal_env.count("cancel") == 1
    assert Journal(tmp_path).entries() == [] and "cancelled queued" in said[-1]


async def test_ctrl_c_leaves_a_running_request_for_the_next_build(
    backend, fal_env, tmp_path, lake, interrupt
):
    """Ctrl-C while running keeps the request journaled (saying so); the next render resumes
    it instead of paying again, and release() forgets it once the clip is stored."""
    fal_env.faults.run_seconds = 0.6
    said: list[str] = []
    await interrupt(backend, lake, tmp_path, said, "running")
    assert fal_env.count("cancel") == 0 and len(Journal(tmp_path).entries()) == 1
    assert "stays journaled and the next build resumes it" in said[-1]
    again = FalBackend.from_env(tmp_path)
    resumed: list[str] = []
    result = await again.render(lake, tmp_path, resumed.append)
    assert resumed[0].startswith("resuming") and len(fal_env.submissions) == 1
    assert result.request_id == fal_env.submissions[0].request_id
    await again.release(lake.key, "0" * 64)
    await again.aclose()
    assert Journal(tmp_path).entries() == []
    receipt = Journal(tmp_path).receipt(lake.key)
    assert receipt and receipt["output"] == "0" * 64 and receipt["request_id"] == result.request_id


async def test_a_request_fal_forgot_is_reported_and_forgotten(
    backend, fal_env, tmp_path, lake, entry_for
):
    """A journaled request fal answers 404 for fails the shot once, without a new submit."""
    Journal(tmp_path).record(entry_for(fal_env, lake.key, "gone-123"))
    with pytest.raises(BackendError, match="does not know request gone-123"):
        await backend.render(lake, tmp_path, lambda s: None)
    assert fal_env.submissions == [] and Journal(tmp_path).entries() == []


async def test_an_entry_from_another_fal_host_is_not_resumed(
    backend, fal_env, tmp_path, lake, entry_for
):
    """A journal entry made against another queue host is not polled here."""
    Journal(tmp_path).record(entry_for(fal_env, lake.key, "elsewhere", "https://queue.example"))
    result = await backend.render(lake, tmp_path, lambda s: None)
    assert len(fal_env.submissions) == 1 and result.request_id != "elsewhere"


async def test_plain_urls_pass_through(backend, fal_env, tmp_path, board_dir):
    """An http(s) URL in the request is sent as is: no token, no upload."""
    url = fal_env.add_file(board_dir / "assets" / "knight.png")
    data = api.normalize_input(
        "image-to-video", {"prompt": "walk", "image_url": url, "duration": 1, "resolution": "480p"}
    )
    request = RenderRequest(
        "walk", "walk", "image-to-video", api.endpoint_id("image-to-video"), data, {}, "f" * 64
    )
    await backend.render(request, tmp_path, lambda s: None)
    assert fal_env.submissions[0].input["image_url"] == url
    assert fal_env.count("token") == fal_env.count("upload") == 0


def test_uploads_once_per_content_and_reuses_fal_urls(build_fal, write_board, fal_env):
    """Same bytes are uploaded once, across shots and builds; an upstream fal clip is passed
    by URL while it lives and uploaded once it has expired. A clip downloaded by the same build
    is passed without asking its URL first (a HEAD per link of a chain)."""
    board = write_board(REUSE)
    result = build_fal(board, ["a", "b", "c"])
    assert result.ok and fal_env.count("upload") == 1 and fal_env.count("token") == 1
    assert fal_env.count("head") == 0
    by_shot = {s.input["prompt"]: s.input for s in fal_env.submissions}
    assert by_shot["onward"]["video_url"] == result.outcomes["a"].record["source_url"]
    assert by_shot["first"]["image_url"] == by_shot["second"]["image_url"]

    board.write_text(board.read_text().replace("second", "second take"))
    assert build_fal(board, ["b"]).ok and fal_env.count("upload") == 1  # remembered upload

    fal_env.expire_files()
    board.write_text(
        board.read_text().replace("onward", "onward again").replace("second take", "third take")
    )
    assert build_fal(board, ["b", "c"]).ok
    assert fal_env.count("upload") == 3  # the asset again, and clip `a` whose URL expired
    assert fal_env.count("head") >= 1  # `a` came from the cache: its URL was asked first
    latest = {s.input["prompt"]: s.input for s in fal_env.submissions}
    assert latest["onward again"]["video_url"] != by_shot["onward"]["video_url"]


async def test_an_unreachable_status_keeps_the_request_for_the_next_build(
    backend, fal_env, tmp_path, lake
):
    """When polls keep failing, the shot fails saying its paid request stays journaled."""
    fal_env.faults.stream = "refuse"  # polls only
    fal_env.burst("status", "503", 25)
    with pytest.raises(BackendError, match="stays journaled: build again to resume it"):
        await backend.render(lake, tmp_path, lambda s: None)
    assert len(Journal(tmp_path).entries()) == 1


async def test_an_expired_video_url_is_reported_and_forgotten(backend, fal_env, tmp_path, lake):
    """A result whose video URL is already gone fails the shot and clears the journal."""

    def expire(state: str) -> None:
        if state == "downloading":
            fal_env.expire_files()

    with pytest.raises(BackendError, match="the video at its fal URL is gone"):
        await backend.render(lake, tmp_path, expire)
    assert Journal(tmp_path).entries() == []
