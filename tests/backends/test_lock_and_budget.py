"""Spend safety on the fal backend: the lock file replaces paid calls, and budgets are enforced."""

from __future__ import annotations

import asyncio
import json
import shutil

import pytest

from grokreel import PlanError, open_project
from grokreel.backends import make_backend
from grokreel.cache.store import sha256_file
from grokreel.execute import Runner, RunOptions

BOARD = """
    defaults: {resolution: 480p, duration: 2}
    assets: {knight: assets/knight.png}
    shots:
      a: {prompt: a lake at dawn}
      b: {image: knight, prompt: the knight waits}
      c: {kind: extend, video: a, prompt: mist rises, duration: 2}
    cut: [b, c]
"""
# 480p at $0.05/s: a 2 s = 0.10, b 2 s + one image = 0.102, c 2 s extension + 2 s input = 0.12


@pytest.fixture
def board(write_board):
    return write_board(BOARD)


def test_estimate_over_budget_refuses_before_any_submission(board, fal_env):
    """--max-cost below the estimate fails before a single request reaches the server."""
    project = open_project(board, backend="fal")
    assert sum(s.cost for s in project.status()) == pytest.approx(0.322)
    with pytest.raises(PlanError, match=r"estimated cost \$0.32 is over --max-cost \$0.30"):
        project.build(max_cost=0.30)
    assert fal_env.submissions == [] and fal_env.calls == []


def test_budget_allows_exact_estimate(board, fal_env):
    """A budget equal to the estimate renders everything, and the summary reports the spend."""
    result = open_project(board, backend="fal").build(max_cost=0.322)
    assert result.ok and len(fal_env.submissions) == 3
    assert result.estimated_cost == pytest.approx(0.322)


def test_runner_never_submits_past_the_budget(board, fal_env):
    """Mid-build, a job whose estimate would pass the budget fails unsubmitted; others render."""
    project = open_project(board, backend="fal")
    options = RunOptions(jobs=1, keep_going=True, max_cost=0.21, prices=project.prices)
    runner = Runner(project.plan, project.store, make_backend("fal", project.store.root), options)
    outcomes = asyncio.run(runner.run(["a", "b", "c"]))
    assert {k: o.status for k, o in outcomes.items()} == {
        "a": "rendered",
        "b": "rendered",
        "c": "failed",
    }
    assert "past --max-cost $0.21; not submitted" in outcomes["c"].error
    assert len(fal_env.submissions) == 2


def test_lock_rebuilds_identical_film_with_zero_submissions(board, fal_env):
    """After `rm -rf` of the cache, the lock fetches every take: same film bytes, no paid call."""
    first = open_project(board, backend="fal").build()
    film = sha256_file(first.output)
    lock = json.loads(board.with_suffix(".lock").read_text())["nodes"]
    assert lock["a"]["request_id"] and lock["a"]["source_url"].startswith("http://127.0.0.1")
    shutil.rmtree(board.parent / ".grokreel")
    first.output.unlink()
    again = open_project(board, backend="fal").build(locked=True)
    assert len(fal_env.submissions) == 3  # still only the first build's
    rendered = [o.job for o in again.outcomes.values() if o.status == "rendered"]
    assert rendered and not any(job.endpoint for job in rendered)  # only local work: the cut
    assert sha256_file(again.output) == film


def test_unfetchable_takes_are_named_and_locked_build_pays_nothing(board, fal_env):
    """When locked URLs expired, --locked fails with zero submissions and names the takes."""
    open_project(board, backend="fal").build()
    shutil.rmtree(board.parent / ".grokreel")
    fal_env.expire_files()
    result = open_project(board, backend="fal").build(locked=True, keep_going=True)
    assert len(fal_env.submissions) == 3
    assert any("locked take of `a` can no longer be fetched" in w for w in result.warnings)
    assert result.outcomes["a"].status == "failed" and "--locked" in result.outcomes["a"].error


def test_lock_has_no_secret(board, fal_env):
    """The lock file records URLs and request ids, never the key."""
    open_project(board, backend="fal").build()
    text = board.with_suffix(".lock").read_text()
    assert fal_env.key not in text and "request_id" in text


def test_lock_fetch_survives_a_flaky_cdn(board, fal_env):
    """Passing CDN failures (503, reset) while fetching locked takes cost no new submission."""
    open_project(board, backend="fal").build()
    shutil.rmtree(board.parent / ".grokreel")
    fal_env.burst("download", "503", 2)
    fal_env.burst("download", "reset", 1)
    result = open_project(board, backend="fal").build(locked=True)
    assert result.ok and len(fal_env.submissions) == 3


CHAINED = """
    defaults: {resolution: 480p, duration: 2}
    assets: {knight: assets/knight.png}
    shots:
      a: {prompt: a lake at dawn, edit: grade it blue}
      b: {image: {shot: a, frame: last}, prompt: the boat drifts}
      c: {kind: extend, video: b, prompt: mist rises, duration: 2}
    cut: [a, c]
"""


def test_clean_cache_with_a_complete_lock_plans_zero_and_builds_locked(write_board, fal_env):
    """Frame links, edits and extends: on an empty cache the lock prices everything at $0,
    `build --locked` fetches every take with zero submissions, and the film is byte-identical."""
    board = write_board(CHAINED)
    first = open_project(board, backend="fal").build()
    paid, film = len(fal_env.submissions), sha256_file(first.output)
    assert paid == 4  # a, a.edit, b, c
    shutil.rmtree(board.parent / ".grokreel")
    first.output.unlink()
    statuses = {s.job.id: s for s in open_project(board, backend="fal").status()}
    assert sum(s.cost for s in statuses.values()) == 0
    assert {j for j, s in statuses.items() if statuses[j].job.endpoint} == {
        j for j, s in statuses.items() if s.status == "fetch"
    }
    again = open_project(board, backend="fal").build(locked=True)
    assert again.ok and len(fal_env.submissions) == paid
    assert sha256_file(again.output) == film


def test_locked_refuses_before_any_paid_call_when_a_locked_job_changed(write_board, fal_env):
    """A storyboard edit downstream of a frame link makes --locked refuse before any call."""
    board = write_board(CHAINED)
    open_project(board, backend="fal").build()
    shutil.rmtree(board.parent / ".grokreel")
    board.write_text(board.read_text().replace("the boat drifts", "the boat sinks"))
    calls = len(fal_env.calls)
    with pytest.raises(PlanError, match=r"--locked: 2 shot job\(s\) would have to be rendered"):
        open_project(board, backend="fal").build(locked=True)
    assert len(fal_env.calls) == calls
