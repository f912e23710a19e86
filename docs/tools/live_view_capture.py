"""Capture the live view at 80×24 during a 40-shot build on the fal backend (issue 8's evidence).

    python docs/tools/live_view_capture.py            # → docs/live-view-80x24.md and .svg

A 40-shot board (30 text shots, 10 extends of the shot before; 81 jobs with the normalizations
and the cut) is built by grokreel's real build on the fal backend, against the shipped
fal-protocol test server (``grokreel.testing.FalTestServer``) set up like a busy account: each
job waits at least ``--queue`` s in fal's queue and runs at least ``--run`` s, at most
``--concurrency`` at once, so with more of grokreel's requests in flight (16 by default) some
stay queued with a position. The server draws each video with the animatic renderer and reports
its log lines.

The view is the one ``grokreel build`` puts on a terminal, made the same way (cli.py: the
estimate of what the build will spend, then ``progress_listener`` on a stream that is a terminal,
here an 80×24 one in memory, then ``Project.build``). Frames are taken as Live draws them (the
view's renderable cropped to the screen) once a quarter and half of the jobs are done, at the
first moment jobs are both queued and running (or a little later without), and once the build
has ended.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.live_render import LiveRender

HERE = Path(__file__).resolve()
REPO = HERE.parents[2]
WIDTH, HEIGHT = 80, 24


@dataclass
class Frame:
    when: str
    done: int
    total: int
    seconds: float
    text: str
    svg: str


def board(folder: Path, shots: int = 40) -> Path:
    """``shots`` shots: every fourth extends the shot before it; the cut joins them all."""
    lines = ["title: Forty shots", "defaults: {resolution: 480p, duration: 2}", "shots:"]
    for i in range(shots):
        if i % 4 == 3:
            lines.append(
                f"  s{i:02d}: {{kind: extend, video: s{i - 1:02d}, "
                f'prompt: "the camera keeps going, shot {i}", duration: 2}}'
            )
        else:
            lines.append(f'  s{i:02d}: {{prompt: "a lighthouse at dusk, shot {i}"}}')
    lines.append(f"cut: [{', '.join(f's{i:02d}' for i in range(shots))}]")
    lines.append("output: {resolution: 480p}")
    path = folder / "forty.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def snap(view, when: str, started: float) -> Frame:
    """What Live draws of ``view`` now: its renderable, cropped to the 24 lines as Live crops it."""
    with view.live._lock:  # not between two updates of the view
        shot = Console(
            record=True,
            file=io.StringIO(),
            width=WIDTH,
            height=HEIGHT,
            force_terminal=True,
            color_system="truecolor",
        )
        shot.print(LiveRender(view.renderable(), vertical_overflow="ellipsis"))
        total = len(view.jobs)
        done = total - view.left
    svg = shot.export_svg(title=f"grokreel build — {when}", clear=False)
    text = shot.export_text(clear=True).rstrip("\n")
    return Frame(when, done, total, time.monotonic() - started, text, svg)


def _busy(view) -> bool:
    """Jobs both queued at fal (with a position) and running (with a log line) on screen."""
    states = [str(view.running._tasks[t].fields["state"]) for t in view.tasks.values()]
    return any(s.startswith("queued") for s in states) and any(
        s.startswith("running") for s in states
    )


def capture(queue: float, run: float, concurrency: int) -> tuple[list[Frame], str, int]:
    """Build the board on the test server: the frames, a one-line account of the build, and the
    paid requests grokreel kept in flight at once."""
    from grokreel.build import configured_in_flight, open_project
    from grokreel.live import LiveView
    from grokreel.progress import progress_listener
    from grokreel.testing import FalTestServer, Faults

    frames: list[Frame] = []
    faults = Faults(queue_seconds=queue, run_seconds=run, concurrency=concurrency)
    with (
        tempfile.TemporaryDirectory(prefix="grokreel-live-") as tmp,
        FalTestServer(key="capture-key", faults=faults) as fal,
    ):
        saved = {name: os.environ.get(name) for name in [*fal.env(), "COLUMNS", "LINES"]}
        os.environ.update(fal.env())
        view = None
        try:
            path = board(Path(tmp))
            project = open_project(path, cache_dir=Path(tmp) / "cache", backend="fal")
            project.plan.check_backend(project.backend)
            # as cli.build does: what the build will spend, then the listener for a terminal
            before = project.status([])
            wanted = project.plan.needs(project.target_jobs(None))
            spend = sum(s.cost for s in before if s.job.id in wanted)
            os.environ.update(COLUMNS=str(WIDTH), LINES=str(HEIGHT))  # the terminal's size
            view = progress_listener(project.plan, (), _Tty(), estimate=spend)
            assert isinstance(view, LiveView), "a terminal gets the live view"
            assert view.console.size == (WIDTH, HEIGHT) and view.console.is_terminal
            started = time.monotonic()
            marks = [(0.25, "a quarter of the jobs done"), (0.5, "half of the jobs done")]

            def listener(event: object) -> None:
                view(event)
                done = len(view.jobs) - view.left
                due = marks and done >= marks[0][0] * len(view.jobs)
                if due and (_busy(view) or done >= (marks[0][0] + 0.15) * len(view.jobs)):
                    frames.append(snap(view, marks.pop(0)[1], started))

            result = project.build(listener=listener)
            view.close()
            frames.append(snap(view, "the build has ended", started))
        finally:
            if view is not None:
                view.close()  # the view's refresh thread ends with the build, however it ends
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
        said = (
            f"{result.count('rendered')} rendered, {result.count('cached')} cached, "
            f"{result.count('failed')} failed; {len(fal.submissions)} paid jobs submitted to the "
            f"test server; spend: estimated ${result.estimated_cost:.2f}"
        )
        if not result.ok:
            raise SystemExit(f"the build failed: {said}")
    return frames, said, configured_in_flight(path)


class _Tty(io.StringIO):
    """A stream that says it is a terminal: ``progress_listener`` then picks the live view."""

    def isatty(self) -> bool:
        return True


def page(
    frames: list[Frame], said: str, in_flight: int, queue: float, run: float, concurrency: int
) -> str:
    out = [
        f"# The live view at {WIDTH}×{HEIGHT} during a 40-shot build",
        "",
        "<!-- Written by docs/tools/live_view_capture.py; do not edit by hand. -->",
        "",
        "`grokreel build` of a 40-shot board (30 text shots, 10 extends; 81 jobs with the",
        "normalizations and the cut) on the fal backend, against the shipped fal-protocol test",
        f"server with each job at least {queue:g} s queued and {run:g} s running, {concurrency} at",
        f"once (grokreel keeps up to {in_flight} requests in flight, so the rest wait with a",
        "queue position).",
        f"Frames as the live view draws them on an {WIDTH}×{HEIGHT} terminal: the total line",
        "(jobs done of all, spend against the estimate, elapsed), finished jobs as counts with the",
        "latest, then every running job with its endpoint, its queue position or the last log",
        "line fal reported, and its own clock (started when it starts running, not while queued).",
        "",
        "Run it again with `python docs/tools/live_view_capture.py`; the coloured frame is",
        f"[live-view-{WIDTH}x{HEIGHT}.svg](live-view-{WIDTH}x{HEIGHT}.svg).",
        "",
    ]
    for frame in frames:
        rows = frame.text.splitlines()
        out += [
            f"## {frame.when}: {frame.done}/{frame.total} jobs, {int(frame.seconds)} s in",
            "",
            f"{len(rows)} of {HEIGHT} lines, widest {max(map(len, rows), default=0)} of {WIDTH}"
            " columns:",
            "",
            "```text",
            *rows,
            "```",
            "",
        ]
    out += [f"The build: {said}.", ""]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queue", type=float, default=1.0, help="seconds each job waits queued")
    parser.add_argument("--run", type=float, default=2.0, help="seconds each job runs at least")
    parser.add_argument("--concurrency", type=int, default=8, help="jobs the server runs at once")
    parser.add_argument("--out", type=Path, default=REPO / f"docs/live-view-{WIDTH}x{HEIGHT}.md")
    args = parser.parse_args(argv)
    frames, said, in_flight = capture(args.queue, args.run, args.concurrency)
    args.out.write_text(page(frames, said, in_flight, args.queue, args.run, args.concurrency))
    pick = next((f for f in frames if f.when.startswith("half")), frames[-1])  # the busiest
    args.out.with_suffix(".svg").write_text(pick.svg)
    print(f"{args.out}: {len(frames)} frames; {said}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
