"""Progress: plain lines for logs, a live table for terminals, both fed by build events."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from grokreel.execute import Outcome
from grokreel.progress import LiveTable, PlainLines, progress_listener

BOARD = """
    defaults: {resolution: 480p, duration: 1}
    shots:
      a: {prompt: first}
      b: {prompt: second}
      c: {kind: extend, video: b, prompt: more, duration: 2}
"""


@pytest.fixture
def plan(compile_board):
    return compile_board(BOARD.replace("duration: 1}", "duration: 2}"))


def feed(listener, plan) -> None:
    """A fal build of `a`: queued, running, downloading, rendered; `b` cached; `c` failed."""
    a, b, c = plan.job("a"), plan.job("b"), plan.job("c")
    for state in [
        "started",
        "uploading",
        "queued 3",
        "queued 3",
        "queued 0",
        "running: step 4/10",
        "downloading",
    ]:
        listener((a, state))
    listener(Outcome(a, "rendered", seconds=12.5))
    listener(Outcome(b, "cached"))
    listener((c, "started"))
    listener(Outcome(c, "failed", error="shot `c` xai/grok-imagine-video/extend-video: boom"))


def test_plain_lines_say_each_new_state_once(plan):
    """Without a terminal, each state change is one line; repeats are not printed."""
    out = io.StringIO()
    feed(PlainLines(out, total=3), plan)
    text = out.getvalue()
    assert text.count("a: queued 3") == 1 and "a: queued 0" in text
    assert "a: running: step 4/10" in text and "a: downloading" in text
    assert "[1/3] rendered a (12.5 s)" in text and "[3/3] failed c: shot `c`" in text


def test_live_table_shows_each_job_and_stops_when_all_are_done(plan):
    """On a terminal, a table row per job shows its state; the display ends with the build."""
    out = io.StringIO()
    jobs = [plan.job(name) for name in "abc"]
    table = LiveTable(jobs, Console(file=out, force_terminal=True, width=120))
    feed(table, plan)
    assert not table.live.is_started and table.left == 0
    text = out.getvalue()
    for piece in ("rendered", "cached", "failed", "12.5 s", "extend-video", "3/3 done", "boom"):
        assert piece in text


def test_listener_choice_follows_the_stream(plan):
    """A pipe or file gets plain lines; shot targets count only the jobs they need."""
    listener = progress_listener(plan, ["a"], io.StringIO())
    assert isinstance(listener, PlainLines) and listener.total == 1
