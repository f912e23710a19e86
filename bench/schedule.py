"""Benchmark the scheduler on the API backend: how close a build gets to the DAG's critical path.

    python bench/schedule.py            # W = 6, 24 chains × D = 2, 4 links; no-op at 100/300 shots
    python bench/schedule.py --quick    # D = 2 only

Boards of W independent chains (a text shot, then D-1 extends of it; the cut joins each chain's
last link) are built by grokreel's real build on the shipped fal test server, which adds a
simulated latency to every job (``--queue`` s queued + ``--run`` s running, 0.5 + 1.0 by default)
and serves a prepared clip of the resolution asked for, made unique per request (no drawing on
this machine's CPU), encoded with another profile than the film's so that, as with real Grok
clips, every clip of the cut is re-encoded by its normalization. Each build
runs in its own process; its wall is measured inside it (interpreter start-up excluded), like
bench/cut.py. The server runs in this process and records when each job completed and when its
result was first fetched: the difference is the noticed-lag.

- critical path = D × (queue + run), plus the board's local tail measured in the same run (the
  median normalization and the cut, which can only start after the last clip); the floor is the
  same with the board's normalizations sharing this machine's cores (every chain ends at once);
- the sequential loop is fal's own client, ``fal_client.subscribe`` then a download, one job after
  another, on the same server (``pip install -e .[bench]``; skipped with a note when missing);
- link: from fal's COMPLETED of a clip to the submit of the extend that needs it, as the server
  saw both (the result fetch, the download, storing it, the next submit);
- the fallback row is the 6×2 board again with the status stream refused (polling only);
- no-op: a second build of a cached 100- and 300-shot board (in process, and the CLI's wall),
  and the CLI's ``plan`` and ``validate`` of the same boards, with their 100 → 300 growth.

This machine has 2 cores shared with others: absolute times are noisy, ratios within one run are
the result.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve()
APP = "xai/grok-imagine-video"


@dataclass
class Run:
    """One build of one board, as measured."""

    label: str
    jobs: int
    depth: int
    wall: float
    paid_wall: float  # until the last paid clip was stored
    tail: float  # median normalization + the cut
    cut: float
    local: float  # every normalization, one after another
    cores: int
    ok: bool
    lags: list[float]
    links: list[float]  # fal said COMPLETED → the next link of the chain was submitted
    status_calls: int
    uploads: int

    def critical(self, latency: float) -> float:
        return self.depth * latency + self.tail

    def floor(self, latency: float) -> float:
        """What this machine's cores allow: every chain ends together, then its normalizations
        share the cores and the cut follows (Graham's bound for the board's tail)."""
        return self.depth * latency + max(self.tail, self.local / self.cores + self.cut)


# ----------------------------------------------------------------------------- boards
def chain_board(folder: Path, width: int, depth: int, tag: str) -> Path:
    """W chains of ``depth`` links: text, then extends; the cut joins each chain's last link."""
    lines = ["defaults: {resolution: 480p, duration: 2}", "shots:"]
    for w in range(width):
        lines.append(f'  c{w}_0: {{prompt: "{tag} chain {w} opens"}}')
        for d in range(1, depth):
            lines.append(
                f"  c{w}_{d}: {{kind: extend, video: c{w}_{d - 1}, "
                f'prompt: "{tag} chain {w} link {d}", duration: 2}}'
            )
    lines.append(f"cut: [{', '.join(f'c{w}_{depth - 1}' for w in range(width))}]")
    lines.append("output: {resolution: 480p}")
    return _write(folder, "\n".join(lines) + "\n")


def flat_board(folder: Path, shots: int, tag: str) -> Path:
    lines = ["defaults: {resolution: 480p, duration: 2}", "shots:"]
    lines += [f'  s{i}: {{prompt: "{tag} shot {i}"}}' for i in range(shots)]
    lines += [f"cut: [{', '.join(f's{i}' for i in range(shots))}]", "output: {resolution: 480p}"]
    return _write(folder, "\n".join(lines) + "\n")


def _write(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    board = folder / "board.yaml"
    board.write_text(text)
    return board


# ----------------------------------------------------------------------------- the child
def child(board: Path) -> None:
    """Build ``board`` in this process; print its timings as JSON (the parent's measurement)."""
    from grokreel import open_project

    started: dict[str, float] = {}
    ended: dict[str, float] = {}

    def listen(event: object) -> None:
        if isinstance(event, tuple) and event[1] == "started":
            started[event[0].id] = time.monotonic()
        elif not isinstance(event, tuple):
            ended[event.job.id] = time.monotonic()  # type: ignore[attr-defined]

    t0 = time.monotonic()
    result = open_project(board).build(listener=listen)
    wall = time.monotonic() - t0
    jobs = [o.job for o in result.outcomes.values()]
    took = {j: ended[j] - started[j] for j in started if j in ended}
    paid = [ended[job.id] for job in jobs if job.endpoint and job.id in ended]
    norms = [took[job.id] for job in jobs if job.kind == "normalize" and job.id in took]
    print(
        json.dumps(
            {
                "wall": wall,
                "paid_wall": (max(paid) - t0) if paid else 0.0,
                "cut": took.get("cut", 0.0),
                "normalize": statistics.median(norms) if norms else 0.0,
                "normalized": sum(norms),
                "cores": os.cpu_count() or 1,
                "ok": result.ok,
                "rendered": result.count("rendered"),
                "errors": sorted(
                    {o.error or "" for o in result.outcomes.values() if o.status == "failed"}
                )[:3],
            }
        )
    )


def build_in_child(board: Path, env: dict[str, str]) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, str(HERE), "--child", str(board)],
        env=cli_env() | env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if out.returncode != 0:
        raise SystemExit(f"build of {board} crashed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- measuring
def measure(fal, root: Path, width: int, depth: int, label: str) -> Run:
    """Build a fresh W×D board; what the build and the server saw."""
    tag = f"w{width}d{depth}-{time.monotonic_ns()}"
    board = chain_board(root / tag, width, depth, tag)
    mark = len(fal.calls)
    known = set(fal.queue.jobs)
    uploads = len(fal.uploads)
    got = build_in_child(board, fal.env())
    calls = fal.calls[mark:]
    jobs = [j for rid, j in fal.queue.jobs.items() if rid not in known]
    first_result: dict[str, float] = {}
    for call in calls:
        if call.phase == "result":
            rid = call.path.rsplit("/", 1)[-1]
            first_result.setdefault(rid, call.at)
    lags = [
        first_result[j.request_id] - j.completed
        for j in jobs
        if j.completed and j.request_id in first_result
    ]
    by_url = {j.video["url"]: j for j in jobs if j.video and j.completed}
    links = [
        j.submitted - by_url[j.input["video_url"]].completed  # type: ignore[operator]
        for j in jobs
        if j.input.get("video_url") in by_url
    ]
    polls = sum(1 for c in calls if c.phase in ("status", "stream"))
    return Run(
        label,
        len(jobs),
        depth,
        got["wall"],
        got["paid_wall"],
        got["normalize"] + got["cut"],
        got["cut"],
        got["normalized"],
        got["cores"],
        bool(got["ok"]),
        lags,
        links,
        polls,
        len(fal.uploads) - uploads,
    )


def naive_loop(fal, width: int, depth: int) -> float | None:
    """fal's own client, one job after another (submit, wait, fetch, download), as a script
    without a scheduler would do it; None when fal-client is not installed."""
    try:
        import fal_client
        import fal_client.client as fal_client_module
    except ImportError:
        return None
    import httpx

    from grokreel import api

    fal_client_module.QUEUE_URL_FORMAT = f"{fal.url}/"  # the same server grokreel used
    client = fal_client.SyncClient(key=fal.key)
    tag = f"naive-{time.monotonic_ns()}"
    t0 = time.monotonic()
    with httpx.Client(timeout=60) as http:
        for w in range(width):
            video = ""
            for d in range(depth):
                if d == 0:
                    endpoint, body = "text-to-video", {"prompt": f"{tag} {w}", "duration": 2}
                else:
                    endpoint = "extend-video"
                    body = {"prompt": f"{tag} {w} {d}", "video_url": video, "duration": 2}
                body = api.normalize_input(endpoint, body)
                answer = client.subscribe(f"{APP}/{endpoint}", body)
                video = answer["video"]["url"]
                http.get(video).raise_for_status()
    return time.monotonic() - t0


def noop(fal, root: Path, shots: int) -> dict[str, float]:
    """A cached ``shots``-shot board built again, in process and by the CLI, and the CLI's
    ``plan`` and ``validate`` of it: seconds, the best of three runs for each command."""
    board = flat_board(root / f"noop{shots}", shots, f"noop{shots}-{time.monotonic_ns()}")
    first = build_in_child(board, fal.env())
    assert first["ok"], f"the first build of the {shots}-shot board failed: {first['errors']}"
    again = build_in_child(board, fal.env())
    assert again["rendered"] == 0, "the second build was not a no-op"
    env = cli_env() | fal.env()
    command = [sys.executable, "-m", "grokreel"]
    subprocess.run([*command, "build", str(board)], env=env, check=True, capture_output=True)
    times = {"in process": again["wall"]}
    for verb in ("build", "plan", "validate"):
        times[verb] = best_of(3, [*command, verb, str(board)], env)
    return times


def cli_env() -> dict[str, str]:
    """This environment as an installed grokreel sees it: Python keeps the compiled modules
    (``PYTHONDONTWRITEBYTECODE``, set in some sandboxes, would compile every module a build
    imports late, such as the fal backend and the cut, inside the timed run); the first build
    writes them."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def best_of(runs: int, argv: list[str], env: dict[str, str]) -> float:
    """The shortest wall of ``runs`` runs of a command (the least disturbed by the machine)."""
    walls = []
    for _ in range(runs):
        t0 = time.monotonic()
        subprocess.run(argv, env=env, check=True, capture_output=True)
        walls.append(time.monotonic() - t0)
    return min(walls)


def stock_clips(folder: Path) -> dict[str, Path]:
    """The clip the server hands out for every job, one per resolution (a real render has the
    size asked for): drawn once by the animatic, then re-encoded with another encoder profile
    (x264 "fast", High, 1 s GOP) so that, as with a real Grok clip, the film's normalization has
    to re-encode it rather than link its bytes."""
    import asyncio

    from grokreel import api
    from grokreel.backends.animatic import AnimaticBackend
    from grokreel.backends.base import RenderRequest
    from grokreel.cut.encoding import run_ffmpeg

    clips = {}
    for resolution in ("480p", "720p"):
        data = api.normalize_input(
            "text-to-video", {"prompt": "stock", "duration": 2, "resolution": resolution}
        )
        request = RenderRequest(
            "stock", "stock", "text-to-video", f"{APP}/text-to-video", data, {}, "0"
        )
        drawn = asyncio.run(AnimaticBackend().render(request, folder, lambda s: None)).path
        clips[resolution] = folder / f"stock-{resolution}.mp4"
        run_ffmpeg(
            ["-i", str(drawn), "-c:v", "libx264", "-preset", "fast", "-profile:v", "high"]
            + ["-g", "24", "-c:a", "aac", "-b:a", "128k", str(clips[resolution])],
            "re-encode the stock clip",
        )
    return clips


# ----------------------------------------------------------------------------- report
def table(runs: list[Run], latency: float, naive: dict[tuple[int, int], float | None]) -> None:
    head = (
        f"{'board':<20}{'jobs':>5}{'crit s':>7}{'floor s':>8}{'wall s':>7}{'×crit':>6}"
        f"{'×floor':>7}{'paid×':>6}{'seq s':>7}{'speedup':>8}{'lag ms':>7}{'link ms':>8}"
        f"{'st/job':>7}{'cut %':>6}{'ok':>4}{'upl':>4}"
    )
    print(head)
    print("-" * len(head))
    for r in runs:
        crit, floor = r.critical(latency), r.floor(latency)
        seq = naive.get((r.jobs, r.depth))
        seq_s = f"{seq:7.1f}" if seq else f"{'—':>7}"
        speed = f"{seq / r.wall:7.1f}×" if seq else f"{'—':>8}"
        lag = 1000 * statistics.median(r.lags) if r.lags else float("nan")
        link = 1000 * statistics.median(r.links) if r.links else float("nan")
        print(
            f"{r.label:<20}{r.jobs:>5}{crit:7.2f}{floor:8.2f}{r.wall:7.2f}{r.wall / crit:6.2f}"
            f"{r.wall / floor:7.2f}{r.paid_wall / (r.depth * latency):6.2f}{seq_s}{speed}"
            f"{lag:7.0f}{link:8.0f}{r.status_calls / max(1, r.jobs):7.1f}"
            f"{100 * r.cut / r.wall:6.0f}{'yes' if r.ok else 'NO':>4}{r.uploads:>4}"
        )
    print(
        "crit: D × (queue + run) + the median normalization + the cut (unlimited cores)\n"
        "floor: the same with the board's normalizations sharing this machine's cores\n"
        "paid×: when the last paid clip was stored ÷ D × (queue + run)\n"
        "link ms: from fal's COMPLETED of a chain's clip to the submit of its next link (median)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="depth 2 only")
    parser.add_argument("--queue", type=float, default=0.5, help="simulated queue seconds")
    parser.add_argument("--run", type=float, default=1.0, help="simulated run seconds")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child)
    from grokreel.testing import FalTestServer, Faults

    latency = args.queue + args.run
    shapes = [(6, 2), (24, 2)] if args.quick else [(6, 2), (6, 4), (24, 2), (24, 4)]
    with tempfile.TemporaryDirectory(prefix="grokreel-bench-") as tmp:
        root = Path(tmp)
        faults = Faults(
            queue_seconds=args.queue,
            run_seconds=args.run,
            concurrency=64,
            stock_video=stock_clips(root),
        )
        with FalTestServer(key="bench-key", faults=faults) as fal:
            runs = [measure(fal, root, w, d, f"{w} chains × {d}") for w, d in shapes]
            fal.faults.stream = "refuse"
            runs.append(measure(fal, root, 6, 2, "6 × 2, polling only"))
            fal.faults.stream = "ok"
            naive: dict[tuple[int, int], float | None] = {}
            for w, d in [(6, 2)] if args.quick else [(6, 2), (6, 4)]:
                naive[(w * d, d)] = naive_loop(fal, w, d)
            fal.faults.queue_seconds = fal.faults.run_seconds = 0.0
            noops = {n: noop(fal, root, n) for n in (100, 300)}
    print(f"simulated latency per job: {args.queue} s queued + {args.run} s running")
    table(runs, latency, naive)
    if any(v is None for v in naive.values()):
        print("(sequential loop skipped: pip install -e '.[bench]' for fal-client)")
    for run in runs:
        if run.lags:
            q = statistics.quantiles(run.lags, n=10)
            print(
                f"noticed-lag {run.label}: median {statistics.median(run.lags) * 1000:.0f} ms "
                f"({100 * statistics.median(run.lags) / args.run:.1f} % of a run), "
                f"p90 {q[-1] * 1000:.0f} ms"
            )
    start = best_of(3, [sys.executable, "-c", "pass"], cli_env())
    print(f"\n{'no-op and planning (s)':<24}{'100 shots':>10}{'300 shots':>10}{'growth':>8}")
    for what in noops[100]:
        small, large = noops[100][what], noops[300][what]
        label = what if what == "in process" else f"CLI {what}"
        print(f"{label:<24}{small:10.3f}{large:10.3f}{large / small:7.2f}×")
    print(f"(the CLI rows include {start:.3f} s of Python's own start-up)")


if __name__ == "__main__":
    main()
