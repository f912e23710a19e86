"""Time a fully remote-cached build of a 100-shot board against a fully local-cached one.

    python bench/remote.py [--shots 100] [--quick]

The board is built once on machine A (animatic backend, pushing every job to an S3 bucket served
by moto on loopback). Then, best of ``--repeat``: a rebuild on A (every job in its local cache),
and a build on a fresh machine B (every job pulled from the bucket: record, blob, sha256 check).
The last line, ``remote_vs_local=…``, is meant for tracking. Loopback S3 has no network latency:
on a real bucket each job adds about two round trips (record, blob) to the remote figure.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from grokreel import open_project
from grokreel.testing.s3 import MotoS3

SAMPLES = Path(__file__).resolve().parent.parent / "storyboards"


def _board(folder: Path, shots: int) -> Path:
    lines = ["defaults: {resolution: 480p, duration: 1}", "output: {resolution: 480p}", "shots:"]
    lines += [f'  s{i:03d}: {{prompt: "shot {i}: a lighthouse in a storm"}}' for i in range(shots)]
    lines.append("cut: [" + ", ".join(f"s{i:03d}" for i in range(shots)) + "]")
    path = folder / "board.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _build(board: Path, cache: Path, remote: str, jobs: int) -> float:
    start = time.perf_counter()
    project = open_project(board, cache_dir=cache, backend="animatic", remote=remote)
    result = project.build(jobs=jobs, output=cache.with_suffix(".mp4"))
    seconds = time.perf_counter() - start
    assert result.ok, [o.error for o in result.outcomes.values() if o.error]
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("-j", "--jobs", type=int, default=4)
    parser.add_argument("--quick", action="store_true", help="20 shots, one repeat")
    args = parser.parse_args()
    shots, repeat = (20, 1) if args.quick else (args.shots, args.repeat)
    with MotoS3() as moto, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        moto.create_bucket("bench")
        os.environ |= {
            "AWS_ENDPOINT_URL": moto.url,
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
        }
        remote = "s3://bench/films"
        board = _board(folder, shots)
        first = _build(board, folder / "a", remote, args.jobs)
        print(f"{shots} shots: first build (render + push) {first:.2f} s")
        local, pulled = [], []
        for n in range(repeat):
            local.append(_build(board, folder / "a", remote, args.jobs))
            pulled.append(_build(board, folder / f"b{n}", remote, args.jobs))
            shutil.rmtree(folder / f"b{n}")
        best_local, best_remote = min(local), min(pulled)
        print(f"local-cached build:  {best_local:.2f} s (best of {repeat})")
        print(f"remote-cached build: {best_remote:.2f} s (best of {repeat}, fresh cache each)")
        print(f"remote_vs_local={best_remote / best_local:.2f}")


if __name__ == "__main__":
    main()
