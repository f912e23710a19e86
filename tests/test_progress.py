"""Progress: plain lines for logs, a live table for terminals, both fed by build events."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from grokreel.execute import Outcome
from grokreel.live import LiveTable, LiveView
from grokreel.progress import PlainLines, progress_listener

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
    """On a terminal, each running job shows its state; finished ones are counted; the display
    ends with the build."""
    out = io.StringIO()
    jobs = [plan.job(name) for name in "abc"]
    table = LiveTable(jobs, Console(file=out, force_terminal=True, width=120))
    feed(table, plan)
    assert not table.live.is_started and table.left == 0
    text = out.getvalue()
    for piece in ("1 rendered", "1 cached", "1 failed", "extend-video", "3/3", "boom"):
        assert piece in text
    # `a` took 12.5 s from its submit, but it worked only since fal said it was running: the
    # view's "rendered in" is that own clock (here a moment), not the queue wait
    assert "rendered in 0.0 s" in text and "12.5 s" not in text


def test_listener_choice_follows_the_stream(plan):
    """A pipe or file gets plain lines; shot targets count only the jobs they need."""
    listener = progress_listener(plan, ["a"], io.StringIO())
    assert isinstance(listener, PlainLines) and listener.total == 1


@pytest.fixture
def board40(compile_board):
    """A 40-shot board (81 jobs: 40 shots, 40 clips, the cut)."""
    shots = "\n".join(f"      s{i:02d}: {{prompt: shot number {i}}}" for i in range(40))
    return compile_board(f"    defaults: {{resolution: 480p, duration: 1}}\n    shots:\n{shots}\n")


def screen(view) -> str:
    """What an 80×24 terminal shows of the view right now."""
    console = Console(width=80, height=24, record=True, force_terminal=True, file=io.StringIO())
    console.print(view.renderable())
    return console.export_text()


def run_40(board40, view_console=None):
    """30 shots rendered, 6 queued or running on fal, 2 local jobs working: a busy build."""
    jobs = board40.jobs()
    console = view_console or Console(width=80, height=24, file=io.StringIO(), force_terminal=True)
    view = LiveView(jobs, console, estimate=8.0)
    for job in jobs[:30]:
        view(Outcome(job, "cached" if job.kind == "normalize" else "rendered", seconds=2.0,
                     record={"cost": 0.05}))  # fmt: skip
    shots = [j for j in jobs[30:] if j.endpoint][:6]
    for n, job in enumerate(shots):
        for state in ["started", "uploading", "submitting", f"queued {n}"] + (
            ["running: step 3/8"] if n < 3 else []
        ):  # the states the fal backend reports, in its order
            view((job, state))
    local = [j for j in jobs[30:] if not j.endpoint][:2]
    for job in local:
        view((job, "started"))
    return view, shots, local


def test_live_view_at_80x24_keeps_every_running_job_visible(board40):
    """With 81 jobs, all 8 running ones are on screen with queue positions and log lines."""
    view, shots, local = run_40(board40)
    text = screen(view)
    view.close()
    assert len(text.splitlines()) <= 24
    for job in shots + local:
        assert job.id in text
    assert "queued, position 5" in text and "running: step 3/8" in text
    assert "30/81" in text and "spent $1.50 of ~$8.00" in text
    assert "done: 30 rendered; last: s29 rendered in 2.0 s" in text


def test_a_job_clock_starts_when_it_starts_working(board40):
    """Queue wait is not a job's time: queued jobs' clocks have not started, running ones have."""
    view, shots, local = run_40(board40)
    view.close()
    started = {job.id: view.running._tasks[view.tasks[job.id]].started for job in shots + local}
    assert [started[j.id] for j in shots] == [True] * 3 + [False] * 3
    assert all(started[j.id] for j in local)


def test_long_log_lines_are_cut_not_wrapped(board40):
    """fal's log lines can be long (and hold brackets): at 80 columns each running job stays on
    one line, its state cut with …, its name and clock kept, the text shown as it came."""
    jobs = board40.jobs()
    view = LiveView(jobs, Console(width=80, height=24, file=io.StringIO(), force_terminal=True))
    running = [j for j in jobs if j.endpoint][:18]
    line = "Generating [/] video: 45%|████▌     | 9/20 [00:12<00:15, 1.2it/s] " * 2
    for job in running:
        view((job, "started"))
        view((job, f"running: {line}"))
    text = screen(view)
    view.close()
    rows = text.splitlines()
    assert len(rows) == 1 + len(running) <= 24  # the total line, then one line a job
    for job, row in zip(running, rows[1:], strict=False):
        assert f" {job.id} text-to-video " in row and re.search(r" \d:\d\d:\d\d$", row.rstrip())
        assert "running: Generating [/] video" in row and "…" in row and len(row) <= 80


def test_more_running_jobs_than_lines_are_all_shown(board40):
    """Even 40 jobs running at once on 24 lines are all listed (wrapped), none cut off."""
    jobs = board40.jobs()
    view = LiveView(jobs, Console(width=80, height=24, file=io.StringIO(), force_terminal=True))
    running = [j for j in jobs if j.endpoint]
    for job in running:
        view((job, "queued 1"))
    text = screen(view)
    view.close()
    assert all(job.id in text for job in running) and len(text.splitlines()) <= 24


def test_ctrl_c_leaves_one_frame_and_says_what_is_kept(board40):
    """After an interrupt: the final frame once, then what is cached, what stays journaled, and
    how to resume."""
    out = io.StringIO()
    view, shots, _ = run_40(board40, Console(width=80, height=24, file=out, force_terminal=True))
    view((shots[0], "interrupted: request r-1 is still running; journaled"))
    view.interrupted()
    text = " ".join(out.getvalue().split(" \n"))  # the 80 columns wrap the message
    assert not view.live.is_started
    assert text.count("interrupted: 30 finished job(s) stay cached") == 1
    assert f"6 request(s) at the API stay journaled ({shots[0].id}," in text
    assert "2 local job(s) stopped" in text
    assert "run the same build again to resume" in text
    assert f"{shots[0].id}: request r-1 is still running; journaled" in text
