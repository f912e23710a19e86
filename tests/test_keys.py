"""Cache keys: a paid render's key never changes; a draft's follows the animatic's code."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

import grokreel.backends.animatic
from grokreel import open_project
from grokreel.backends.animatic import AnimaticBackend
from grokreel.backends.fal import FalBackend
from grokreel.cache.store import Store
from grokreel.execute import Runner
from grokreel.keys import job_key
from grokreel.plan import Job, compile_file

BOARD = """
    defaults: {resolution: 480p, duration: 1}
    assets: {knight: assets/knight.png}
    shots:
      a: {prompt: a lake at dawn}
      b: {image: knight, prompt: the knight waits, take: 2}
      c: {references: [knight], prompt: "@knight rides"}
"""
# Keys the fal backend gave these jobs before the animatic had a version in its keys: a paid key
# that drifts from its pin makes every user pay again for clips they already have.
TEXT = {"prompt": "a lake at dawn", "duration": 5, "resolution": "480p", "aspect_ratio": "16:9"}
IMAGE = {"prompt": "the knight rides", "image_url": "file:/x/knight.png", "duration": 3}
PAID = [
    (
        Job("a", "generate", "a", "text-to-video", TEXT),
        "dd4b26a71b84fa5459964fc602f6b8eed1378059b13cc8ab054a66571a5c6601",
    ),
    (
        Job("b", "generate", "b", "image-to-video", IMAGE | {"resolution": "720p"}, take=2),
        "90bec4a84406d616130f0230ed7d07513f6bbc327fc26223d117ffb0be4f4703",
    ),
]


def fixed(ref: str) -> str:
    return "sha256:" + "1" * 64 if ref.startswith("file:") else "sha256:" + "0" * 64


@pytest.fixture
def runners(write_board: Callable[..., Path], board_dir: Path) -> Iterator[dict[str, Runner]]:
    """A compiled board with local inputs, and a Runner for it on each backend (nothing runs)."""
    plan = compile_file(write_board(BOARD))
    store = Store(board_dir / ".grokreel")
    fal = FalBackend("test-key-never-sent", store.root)
    yield {
        "fal": Runner(plan, store, fal),
        "animatic": Runner(plan, store, AnimaticBackend()),
    }
    asyncio.run(fal.aclose())


def shots(runner: Runner) -> list[Job]:
    return [job for job in runner.plan.jobs() if job.endpoint]


@pytest.mark.parametrize(("job", "key"), PAID, ids=["text", "image"])
def test_paid_keys_are_pinned(job: Job, key: str):
    """A fal job's key is what it always was, byte for byte, whatever font the storyboard sets."""
    assert job_key(job, "fal", fixed) == key
    assert job_key(replace(job, font="file:/x/own.ttf"), "fal", fixed) == key


def test_a_drafts_key_holds_its_fonts_content():
    """On the animatic, setting a font, or changing the font file's bytes, re-keys the draft."""
    job = PAID[0][0]
    own = replace(job, font="file:/x/own.ttf")
    other = job_key(own, "animatic", lambda ref: "sha256:" + "2" * 64)
    assert len({job_key(job, "animatic", fixed), job_key(own, "animatic", fixed), other}) == 3


def test_runner_keys_a_paid_job_with_nothing_of_ours(runners: dict[str, Runner]):
    """On fal, the runner's key of each shot is the plain key: no engine, no animatic version."""
    runner = runners["fal"]
    for job in shots(runner):
        assert runner.key_of(job) == job_key(job, "fal", runner.content_hash, engine="")


def test_status_and_build_agree_on_a_drafts_key(
    runners: dict[str, Runner], monkeypatch: pytest.MonkeyPatch
):
    """`plan`/`status` key each draft as the build does, version and all (else a cached draft
    would show as new), before and after a bump."""
    runner = runners["animatic"]
    for version in ("animatic-1", "animatic-next"):
        monkeypatch.setattr(grokreel.backends.animatic, "ANIMATIC_ENGINE", version)
        project = open_project(runner.plan.path, backend="animatic")
        status = {s.job.id: s.key for s in project.status()}
        assert {job.id: runner.key_of(job) for job in shots(runner)}.items() <= status.items()


def test_bumping_the_animatic_version_rekeys_drafts_only(
    runners: dict[str, Runner], monkeypatch: pytest.MonkeyPatch
):
    """A new ANIMATIC_ENGINE gives every draft a new key and leaves every paid key as it was."""
    before = {name: [r.key_of(job) for job in shots(r)] for name, r in runners.items()}
    monkeypatch.setattr(grokreel.backends.animatic, "ANIMATIC_ENGINE", "animatic-next")
    after = {name: [r.key_of(job) for job in shots(r)] for name, r in runners.items()}
    assert after["fal"] == before["fal"]
    assert all(new != old for new, old in zip(after["animatic"], before["animatic"], strict=True))
