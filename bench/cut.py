"""Benchmark the final cut against the ffmpeg floor, at 12 and 100 clips, in one run.

    python bench/cut.py            # 1280×720, 6 s clips (a few minutes)
    python bench/cut.py --quick    # 854×480, 2 s clips (under a minute)

Synthetic clips in the film's encoding (the animatic's; a clip from the API is normalized once, as
the rebuild row shows) are cut by grokreel's real build (plan → normalize jobs → cut job, through
the executor and the cache) and by the reference commands. Every run is its own process; its wall
time and the peak resident memory of its whole process tree (sampled from /proc every 10 ms) are
recorded. grokreel's times are measured inside its process (interpreter start-up excluded).
Ratios, not absolute times, are the result; the last line is machine-readable:

    cut_vs_floor=X rebuild_vs_floor=Y mem100_vs_mem12=Z

- floor: concat demuxer, video copied, audio re-encoded with aresample=async=1 (A/V exact);
- cut_vs_floor: grokreel's hard-cut film of 100 compatible clips over the floor's time;
- rebuild_vs_floor: rebuilding after one clip changed (its normalization + the join) over the floor;
- mem100_vs_mem12: grokreel's peak memory at 100 clips over that at 12.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import imageio_ffmpeg

if TYPE_CHECKING:
    from grokreel.backends.base import Progress, RenderRequest, RenderResult

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Size:
    """The synthetic clips' shape, and the storyboard resolution that matches it."""

    width: int
    height: int
    seconds: float
    resolution: str


FULL, QUICK = Size(1280, 720, 6.0, "720p"), Size(854, 480, 2.0, "480p")
Row = tuple[str, float, float, str]  # what ran, wall seconds, peak MB, ratio to the floor


# ----------------------------------------------------------------------------- measuring


def _tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and all its descendants, from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = int(fields[1])
        except (OSError, ValueError, IndexError):
            continue
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, ppid in parents.items() if ppid in tree} - tree
        tree |= more
        grew = bool(more)
    total = 0
    for pid in tree:
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
        except (OSError, ValueError, IndexError):
            continue
    return total


def measure(cmd: list[str]) -> tuple[float, float, str]:
    """Run ``cmd``; its wall seconds, peak memory of its process tree in MB, and its stdout."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak, done = 0, threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            done.wait(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    if proc.returncode:
        raise SystemExit(f"failed: {' '.join(cmd[:6])}…\n{err[-2000:]}")
    return wall, peak / 1e6, out


# ----------------------------------------------------------------------------- clips


def synthesize(folder: Path, size: Size, count: int) -> list[Path]:
    """``count`` distinct clips in the film's encoding: 12 encoded, the rest remuxed variants."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from grokreel.cut.encoding import AUDIO_ARGS, COLOUR_TAIL, FilmFormat, video_args

    fmt = FilmFormat(size.width, size.height)
    bases = []
    for k in range(min(count, 12)):
        path = folder / f"base{k:02d}.mp4"
        source = f"testsrc2=size={size.width}x{size.height}:rate=24:duration={size.seconds}"
        tone = f"sine=frequency={220 + 40 * k}:sample_rate=48000:duration={size.seconds}"
        _ffmpeg(
            [
                "-f",
                "lavfi",
                "-i",
                source,
                "-f",
                "lavfi",
                "-i",
                tone,
                "-vf",
                f"hue=h={30 * k},{COLOUR_TAIL}",
                *video_args(fmt),
                *AUDIO_ARGS,
                str(path),
            ]
        )
        bases.append(path)
    clips = []
    for k in range(count):
        path = folder / f"clip{k:03d}.mp4"
        _ffmpeg(
            [
                "-i",
                str(bases[k % len(bases)]),
                "-c",
                "copy",
                "-metadata",
                f"comment=clip {k}",
                str(path),
            ]
        )
        clips.append(path)
    return clips


def foreign(folder: Path, size: Size) -> Path:
    """A clip as an API returns it: same size, another encoder (B-frames, its own headers)."""
    path = folder / "foreign.mp4"
    _ffmpeg(
        [
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size={size.width}x{size.height}:rate=24:duration={size.seconds}",
            "-f",
            "lavfi",
            "-i",
            f"sine=duration={size.seconds}",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            str(path),
        ]
    )
    return path


def _ffmpeg(args: list[str]) -> None:
    subprocess.run([FFMPEG, "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


# ----------------------------------------------------------------------------- methods


def floor(clips: list[Path], folder: Path, *, copy_audio: bool = False) -> tuple[float, float]:
    listing = folder / "list.txt"
    listing.write_text("".join(f"file '{c}'\n" for c in clips))
    audio = ["-c:a", "copy"] if copy_audio else ["-c:a", "aac", "-af", "aresample=async=1"]
    wall, mem, _ = measure(
        [
            FFMPEG,
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "concat",
            "-safe",
            "0",
            "-i",
            str(listing),
            "-c:v",
            "copy",
            *audio,
            str(folder / "floor.mp4"),
        ]
    )
    return wall, mem


def moviepy(clips: list[Path], folder: Path) -> tuple[float, float]:
    script = (
        "import sys, time; from moviepy import VideoFileClip, concatenate_videoclips\n"
        "t = time.perf_counter(); cs = [VideoFileClip(p) for p in sys.argv[2:]]\n"
        "concatenate_videoclips(cs).write_videofile(sys.argv[1], preset='ultrafast', "
        "audio_codec='aac', logger=None)\n"
        "[c.close() for c in cs]; print(time.perf_counter() - t)"
    )
    _, mem, out = measure(
        [sys.executable, "-c", script, str(folder / "moviepy.mp4"), *map(str, clips)]
    )
    return float(out.strip().splitlines()[-1]), mem


def storyboard(folder: Path, clips: list[Path], size: Size, transition: str = "") -> Path:
    """A board with one shot per clip; each prompt names the clip the bench backend returns."""
    shots = "\n".join(f'  s{k:03d}: {{prompt: "{clip}"}}' for k, clip in enumerate(clips))
    cut = "\n".join(f"  - {{shot: s{k:03d}{transition if k else ''}}}" for k in range(len(clips)))
    path = folder / "film.yaml"
    path.write_text(
        f"defaults: {{resolution: {size.resolution}, duration: {size.seconds:g}}}\n"
        f"shots:\n{shots}\ncut:\n{cut}\noutput: {{resolution: {size.resolution}}}\n"
    )
    return path


def grokreel(board: Path, *, targets: str = "all") -> tuple[float, float, dict[str, object]]:
    """Build ``board`` in a worker process: its wall time inside, its tree's peak memory."""
    _, mem, out = measure([sys.executable, __file__, "--worker", str(board), targets])
    report = json.loads(out.strip().splitlines()[-1])
    return report["seconds"], mem, report


def worker(board: Path, targets: str) -> None:
    """Run the build the bench measures (shots served by BenchBackend); print a JSON line."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from grokreel.build import open_project
    from grokreel.execute import Runner

    project = open_project(board, backend="animatic")
    jobs = None if targets == "all" else [j.id for j in project.plan.jobs() if j.endpoint]
    runner = Runner(project.plan, project.store, BenchBackend())
    start = time.perf_counter()
    outcomes = asyncio.run(runner.run(jobs))
    seconds = time.perf_counter() - start
    failed = {k: o.error for k, o in outcomes.items() if not o.ok}
    if failed:
        raise SystemExit(f"build failed: {failed}")
    cut = outcomes.get("cut")
    record = cut.record if cut else {}
    print(
        json.dumps(
            {
                "seconds": seconds,
                "rendered": sum(o.status == "rendered" for o in outcomes.values()),
                "encoded": record.get("encoded_frames"),
                "frames": (record.get("video") or {}).get("num_frames"),
            }
        )
    )


class BenchBackend:
    """Renders a shot by handing back the clip its prompt names (no drafting, no network)."""

    name = "animatic"  # keys as the animatic's, so the bench's cache is an ordinary one

    async def render(
        self, request: RenderRequest, workdir: Path, progress: Progress
    ) -> RenderResult:
        from grokreel.backends.base import RenderResult

        dest = workdir / "clip.mp4"
        shutil.copyfile(request.input["prompt"], dest)
        return RenderResult(dest, {"url": dest.as_uri()})

    async def release(self, key: str) -> None:
        return None

    async def aclose(self) -> None:
        return None


# ----------------------------------------------------------------------------- the run


def run(size: Size, root: Path) -> dict[str, float]:
    print(
        f"synthesizing 100 clips of {size.width}×{size.height}, {size.seconds:g} s …",
        file=sys.stderr,
    )
    clips = synthesize(root / "clips", size, 100)
    rows: list[Row] = []
    result: dict[str, float] = {}
    for n in (12, 100):
        work = root / f"n{n}"
        work.mkdir()
        board = storyboard(work, clips[:n], size)
        grokreel(board, targets="shots")  # the renders: cached before anything is timed
        f_wall, f_mem = floor(clips[:n], work)
        c_wall, c_mem = floor(clips[:n], work, copy_audio=True)
        g_wall, g_mem, report = grokreel(board)
        assert report["encoded"] == 0, report
        rows += [
            (f"{n} clips: floor (video copy, audio aac)", f_wall, f_mem, "1.00"),
            (f"{n} clips: -c copy (audio drifts)", c_wall, c_mem, f"{c_wall / f_wall:.2f}"),
            (f"{n} clips: grokreel cut, hard cuts", g_wall, g_mem, f"{g_wall / f_wall:.2f}"),
        ]
        result |= {f"floor{n}": f_wall, f"cut{n}": g_wall, f"mem{n}": g_mem}
        if n == 12:
            m_wall, m_mem = moviepy(clips[:n], work)
            rows.append(
                (
                    f"{n} clips: MoviePy concatenate (ultrafast)",
                    m_wall,
                    m_mem,
                    f"{m_wall / f_wall:.2f}",
                )
            )
            rows += _crossfades(root, clips[:n], size, f_wall)
        else:
            rows += _rebuild(board, work, size, f_wall, result)
    _table(rows)
    return result


def _crossfades(root: Path, clips: list[Path], size: Size, f_wall: float) -> list[Row]:
    work = root / "xfade"
    work.mkdir()
    board = storyboard(work, clips, size, ", transition: {type: crossfade, duration: 0.5}")
    grokreel(board, targets="shots")
    wall, mem, report = grokreel(board)
    share = f"{report['encoded']}/{report['frames']} frames re-encoded"
    return [
        (
            f"{len(clips)} clips: grokreel cut, {len(clips) - 1} crossfades",
            wall,
            mem,
            f"{wall / f_wall:.2f} ({share})",
        )
    ]


def _rebuild(
    board: Path, work: Path, size: Size, f_wall: float, result: dict[str, float]
) -> list[Row]:
    """Swap one shot for a clip from another encoder: one normalization plus the join."""
    changed = foreign(work, size)
    text = board.read_text()
    old = text.split('prompt: "', 2)[2].split('"', 1)[0]  # the second shot's clip
    board.write_text(text.replace(old, str(changed), 1))
    grokreel(board, targets="shots")
    n_wall = _normalize_once(changed, work, size)
    wall, mem, _ = grokreel(board)
    result |= {"rebuild": wall, "normalize": n_wall}
    bound = f"bound {n_wall + 2 * f_wall:.2f} s"
    return [
        ("one clip normalized alone", n_wall, 0.0, f"{n_wall / f_wall:.2f}"),
        ("rebuild after one clip changed", wall, mem, f"{wall / f_wall:.2f} ({bound})"),
    ]


def _normalize_once(clip: Path, work: Path, size: Size) -> float:
    script = (
        "import sys, time, pathlib; from grokreel.cut import ClipSpec, FilmFormat, "
        "normalize_clip\nP = pathlib.Path; t = time.perf_counter()\n"
        f"normalize_clip(P(sys.argv[1]), P(sys.argv[2]), ClipSpec(FilmFormat("
        f"{size.width}, {size.height})), P(sys.argv[3]))\nprint(time.perf_counter() - t)"
    )
    env_path = str(Path(__file__).resolve().parent.parent)
    _, _, out = measure(
        [
            sys.executable,
            "-c",
            f"import sys; sys.path.insert(0, {env_path!r})\n" + script,
            str(clip),
            str(work / "norm.mp4"),
            str(work),
        ]
    )
    return float(out.strip().splitlines()[-1])


def _table(rows: list[Row]) -> None:
    print(f"| {'run':<44} | {'wall s':>7} | {'peak MB':>7} | vs floor |")
    print(f"|{'-' * 46}|{'-' * 9}|{'-' * 9}|----------|")
    for name, wall, mem, ratio in rows:
        shown = f"{mem:7.0f}" if mem else f"{'–':>7}"
        print(f"| {name:<44} | {wall:7.2f} | {shown} | {ratio} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small clips: under a minute")
    parser.add_argument("--worker", nargs=2, metavar=("BOARD", "TARGETS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(Path(args.worker[0]), args.worker[1])
        return
    size = QUICK if args.quick else FULL
    with tempfile.TemporaryDirectory(prefix="grokreel-bench-") as tmp:
        root = Path(tmp)
        (root / "clips").mkdir()
        r = run(size, root)
    print(
        f"cut_vs_floor={r['cut100'] / r['floor100']:.2f} "
        f"rebuild_vs_floor={r['rebuild'] / r['floor100']:.2f} "
        f"mem100_vs_mem12={r['mem100'] / r['mem12']:.2f}"
    )


if __name__ == "__main__":
    main()
