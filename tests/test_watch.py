"""`grokreel watch`: a save rebuilds what changed, in process and fast; a save mid-build cancels
it as Ctrl-C would; after a storyboard error the watch goes on."""

from __future__ import annotations

import queue
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from grokreel.errors import PlanError
from grokreel.testing import FalTestServer
from grokreel.watch import Cycle, Watcher, WatchOptions

BOARD = """
defaults: {resolution: 480p, duration: 1}
shots:
  sea: {prompt: a calm sea}
  sky: {prompt: a grey sky}
"""
BOUND = 60  # seconds any one reaction may take before the test gives up (a bound, not a check)
OVERHEAD = 1.0  # seconds a rebuild may take beyond rendering what changed (issue 8's bound)

Start = Callable[..., Callable[[], Cycle]]


@pytest.fixture
def watch(tmp_path: Path) -> Iterator[Start]:
    """``watch(board, options)``: a Watcher in a thread, its cycles in a queue; returns a
    ``next_cycle()`` that waits (boundedly) for the next one. Every watcher is stopped and
    joined at the end of the test, whatever happened."""
    running: list[tuple[threading.Event, threading.Thread]] = []
    log = (tmp_path / "watch.log").open("w")

    def start(board: Path, options: WatchOptions | None = None) -> Callable[[], Cycle]:
        cycles: queue.Queue[Cycle] = queue.Queue()
        stop = threading.Event()
        watcher = Watcher(board, options or WatchOptions("animatic"), log, cycles.put)
        thread = threading.Thread(target=watcher.run, args=(stop,), daemon=True)
        thread.start()
        running.append((stop, thread))
        return lambda: cycles.get(timeout=BOUND)

    yield start
    for stop, thread in running:
        stop.set()
        thread.join(timeout=BOUND)
    log.close()
    assert not any(thread.is_alive() for _, thread in running)


@pytest.fixture
def fal(monkeypatch: pytest.MonkeyPatch) -> Iterator[FalTestServer]:
    """The shipped fal test server, with the environment pointing grokreel at it (asked for
    before ``watch``, so the watch stops before the server does)."""
    with FalTestServer(key="test-key-watch") as server:
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("GROKREEL_FAL_POLL_INTERVAL", "0.02")
        yield server


def _until(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


def _render_seconds(cycle: Cycle) -> float:
    """The build's own time spent on the jobs it had to run (the changed shot, its normalized
    clip, the cut: one after another, so their sum is the rendering's wall time)."""
    assert cycle.result is not None
    return sum(o.seconds for o in cycle.result.outcomes.values() if o.status == "rendered")


def test_a_save_rebuilds_what_changed(watch, write_board):
    """The first build renders everything; a changed prompt renders that shot and the cut."""
    path = write_board(BOARD)
    next_cycle = watch(path)
    first = next_cycle()
    assert first.ok and first.result.count("rendered") == 5  # 2 shots, 2 clips, the cut
    path.write_text(path.read_text().replace("a calm sea", "a rough sea"))
    second = next_cycle()
    assert second.ok and (second.result.count("rendered"), second.result.count("cached")) == (3, 2)
    assert second.review and "a rough sea" in second.review.read_text()


def test_a_save_is_rebuilt_within_a_second_of_its_render(watch, write_board):
    """Save → film and review page rewritten takes the render of what changed plus under a
    second: the median of five saves, the render timed by the build itself. (On a machine so
    busy that the render alone takes over a second, the time beyond it must stay under the
    render's. A rebuild in a fresh process, as the watch used to run, took 4-5× the render.)"""
    path = write_board(BOARD)
    next_cycle = watch(path)
    assert next_cycle().ok  # the first build: a cold cache, and the imports
    film = path.with_name("film.draft.mp4")
    extra: list[float] = []
    render: list[float] = []
    parts: list[str] = []
    for sky in ("a blue sky", "a red sky", "a pink sky", "a gold sky", "a dark sky"):
        path.write_text(BOARD.replace("a grey sky", sky).lstrip())
        saved, saved_at = time.monotonic(), time.time()
        cycle = next_cycle()
        assert cycle.ok and cycle.result.count("rendered") == 3, cycle
        assert film.stat().st_mtime >= saved_at - 0.01 and sky in cycle.review.read_text()
        render.append(_render_seconds(cycle))
        extra.append(cycle.ended - saved - render[-1])
        seen, built, ended = (t - saved for t in (cycle.seen, cycle.built, cycle.ended))
        parts.append(f"seen {seen:.2f} film {built:.2f} page {ended:.2f} render {render[-1]:.2f}")
    budget = max(OVERHEAD, statistics.median(render))
    print("\n".join(["after each save (s):", *parts]))  # shown with `pytest -s -n0`
    assert statistics.median(extra) < budget, "; ".join(parts)


def test_the_watch_goes_on_through_a_storyboard_error(watch, write_board, tmp_path):
    """A broken save is printed with its location (no traceback); the next good save builds."""
    path = write_board(BOARD)
    next_cycle = watch(path)
    assert next_cycle().ok
    path.write_text(BOARD.replace("prompt: a grey sky", "promt: a grey sky").lstrip())
    broken = next_cycle()
    assert broken.error and "film.yaml:4:" in broken.error and broken.result is None
    path.write_text(BOARD.replace("a grey sky", "a blue sky").lstrip())
    again = next_cycle()
    assert again.ok and again.result.output == path.with_name("film.draft.mp4")
    log = (tmp_path / "watch.log").read_text()
    assert "film.yaml:4:" in log and "waiting for the next save" in log
    assert "Traceback" not in log


def test_a_save_mid_build_cancels_it(fal, watch, write_board, tmp_path):
    """On fal, a save while one request runs and another waits in the queue cancels the build
    as Ctrl-C does: the queued request is cancelled at fal, the running one stays journaled and
    the next build resumes it; no request is submitted twice, and that build ends the board."""
    path = write_board(BOARD)
    next_cycle = watch(path, WatchOptions("fal", max_cost=1.0))
    assert next_cycle().ok and len(fal.submissions) == 2
    fal.faults.concurrency, fal.faults.run_seconds = 1, 60.0  # one runs, the other waits
    log, said = tmp_path / "watch.log", len((tmp_path / "watch.log").read_text())
    path.write_text(BOARD.replace("calm", "rough").replace("grey", "blue").lstrip())
    _until(lambda: fal.queue.counts() == {"COMPLETED": 2, "IN_PROGRESS": 1, "IN_QUEUE": 1})
    _until(lambda: ": running" in log.read_text()[said:])  # the watch has seen it start
    jobs = {job.status: job for job in fal.queue.jobs.values() if job.status != "COMPLETED"}
    running, waiting = jobs["IN_PROGRESS"], jobs["IN_QUEUE"]
    changed = waiting.input["prompt"]  # the queued shot changes again
    path.write_text(path.read_text().replace(changed, f"{changed} at dusk"))
    _until(lambda: waiting.cancelled)
    fal.faults.run_seconds = 0.0  # the running request may now finish
    assert next_cycle().cancelled and "a save came in: build cancelled" in log.read_text()
    last = next_cycle()
    assert last.ok and last.result.output and last.result.output.is_file(), last
    prompts = [s.input["prompt"] for s in fal.submissions]
    assert len(prompts) == 5 and len(set(prompts)) == 5, prompts  # 2 + 2 + the changed one
    assert f"{changed} at dusk" in prompts and not running.cancelled
    assert fal.count("cancel") == 1
    shot = {"a rough sea": "sea", "a blue sky": "sky"}[running.input["prompt"]]
    resumed = last.result.outcomes[shot]
    assert resumed.record["request_id"] == running.request_id  # resumed, not paid again


def test_a_build_refused_over_budget_is_printed_and_the_watch_goes_on(fal, watch, write_board):
    """A rebuild whose estimate is over --max-cost submits nothing, says why, and the watch
    builds the next save that fits."""
    path = write_board(BOARD)
    next_cycle = watch(path, WatchOptions("fal", max_cost=0.15))  # two 1-s shots: $0.10
    assert next_cycle().ok
    longer = BOARD.replace("duration: 1", "duration: 5").lstrip()
    path.write_text(longer)
    refused = next_cycle()
    assert refused.error and "--max-cost" in refused.error and len(fal.submissions) == 2
    path.write_text(BOARD.replace("a calm sea", "a rough sea").lstrip())
    assert next_cycle().ok and len(fal.submissions) == 3


def test_watch_on_fal_needs_a_ceiling():
    """On the paid backend a watch without --max-cost is refused before anything runs."""
    with pytest.raises(PlanError, match="--max-cost"):
        WatchOptions("fal").check()
    WatchOptions("fal", max_cost=1.0).check()


def test_cli_refuses_fal_without_max_cost(cli, write_board):
    """`grokreel watch --backend fal` without --max-cost exits 1 with the reason."""
    result = cli("watch", write_board(BOARD), "--backend", "fal")
    assert result.exit_code == 1 and "--max-cost" in result.output
