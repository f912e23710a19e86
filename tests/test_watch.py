"""`grokreel watch`: a save rebuilds what changed; after a storyboard error the watch goes on."""

from __future__ import annotations

import queue
import threading

import pytest

from grokreel.errors import PlanError
from grokreel.watch import Cycle, Watcher, WatchOptions

BOARD = """
defaults: {resolution: 480p, duration: 1}
shots:
  sea: {prompt: a calm sea}
  sky: {prompt: a grey sky}
"""
BOUND = 300  # seconds any one reaction may take before the test gives up (a bound, not a check)


@pytest.fixture
def watching(write_board, tmp_path):
    """A Watcher on a small board in a thread, its cycles in a queue; stopped at the end."""
    path = write_board(BOARD)
    cycles: queue.Queue[Cycle] = queue.Queue()
    stop = threading.Event()
    log = (tmp_path / "watch.log").open("w")
    watcher = Watcher(path, WatchOptions("animatic"), log, cycles.put)
    thread = threading.Thread(target=watcher.run, args=(stop,), daemon=True)
    thread.start()
    yield path, lambda: cycles.get(timeout=BOUND)
    stop.set()
    thread.join(timeout=BOUND)
    log.close()
    assert not thread.is_alive()


def _summary(cycle: Cycle) -> str:
    return next(line for line in cycle.lines if "rendered," in line)


def test_a_save_rebuilds_what_changed(watching):
    """The first build renders everything; a changed prompt renders that shot and the cut."""
    path, next_cycle = watching
    first = next_cycle()
    assert first.exit_code == 0 and _summary(first).startswith(
        "5 rendered, 0 cached"
    )  # 2 shots, 2 clips, the cut
    path.write_text(path.read_text().replace("a calm sea", "a rough sea"))
    second = next_cycle()
    assert second.exit_code == 0 and _summary(second).startswith("3 rendered, 2 cached")


def test_the_watch_goes_on_through_a_storyboard_error(watching):
    """A broken save is reported with its location; the next good save builds again."""
    path, next_cycle = watching
    assert next_cycle().exit_code == 0
    good = path.read_text()
    path.write_text(good.replace("prompt: a grey sky", "promt: a grey sky"))
    broken = next_cycle()
    assert broken.error and "film.yaml:4:" in broken.error and broken.exit_code is None
    path.write_text(good.replace("a grey sky", "a blue sky"))
    again = next_cycle()
    assert again.exit_code == 0 and "draft.mp4" in _summary(again)


def test_watch_on_fal_needs_a_ceiling():
    """On the paid backend a watch without --max-cost is refused before anything runs."""
    with pytest.raises(PlanError, match="--max-cost"):
        WatchOptions("fal").check()
    WatchOptions("fal", max_cost=1.0).check()


def test_cli_refuses_fal_without_max_cost(cli, write_board):
    """`grokreel watch --backend fal` without --max-cost exits 1 with the reason."""
    result = cli("watch", write_board(BOARD), "--backend", "fal")
    assert result.exit_code == 1 and "--max-cost" in result.output
