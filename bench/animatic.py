"""Time every animatic kind at 1280x720, 6 s (edit and extend start from the text shot).

    python bench/animatic.py [--width 1280 --height 720 --duration 6 --repeat 3]

Prints the best of ``--repeat`` wall and CPU times per kind, in seconds. The reference images
are smoothed noise, the worst case for x264, so image and references are pessimistic.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from grokreel.media import animatic
from grokreel.media.frames import grab_frame
from grokreel.media.probe import probe


def _best(repeat: int, job: Callable[[], None]) -> tuple[float, float]:
    """Best wall and CPU seconds of ``repeat`` runs: the least disturbed by other work.

    CPU time counts every thread of this process (x264 uses two), so it can exceed wall time."""
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        job()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return min(wall), min(cpu)


def _pictures(folder: Path) -> list[Path]:
    """Three detailed test images (noise compresses worst, so it is the pessimistic case)."""
    rng = np.random.default_rng(0)
    paths = []
    for k, size in enumerate([(1920, 1080), (800, 1200), (1024, 1024)]):
        pixels = rng.integers(0, 255, (size[1] // 8, size[0] // 8, 3), dtype=np.uint8)
        path = folder / f"ref{k}.png"
        Image.fromarray(pixels).resize(size, Image.Resampling.BILINEAR).save(path)
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--duration", type=float, default=6.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    size = {"width": args.width, "height": args.height}
    prompt = "A lighthouse keeper watches a storm roll in over the grey sea, 35mm, dusk"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        refs, text = _pictures(folder), folder / "text.mp4"
        shot = {"prompt": prompt, "seed": "bench", "duration": args.duration}
        edit = {"prompt": prompt, "seed": "bench", "max_duration": 8.0}
        a = animatic
        jobs: dict[str, tuple[Path, Callable[[Path], None]]] = {
            "text": (text, lambda out: a.render_text(out, **shot, **size)),
            "image": (
                folder / "i.mp4",
                lambda out: a.render_image(out, image=refs[0], **shot, **size),
            ),
            "references": (
                folder / "r.mp4",
                lambda out: a.render_references(out, images=refs, **shot, **size),
            ),
            "edit": (folder / "e.mp4", lambda out: a.render_edit(out, source=text, **edit, **size)),
            "extend": (folder / "x.mp4", lambda out: a.render_extend(out, source=text, **shot)),
        }
        for name, (out, render) in jobs.items():
            wall, cpu = _best(args.repeat, lambda out=out, render=render: render(out))
            info = probe(out)
            print(
                f"{name:<11} {wall:6.3f} s wall {cpu:6.3f} s cpu   "
                f"{info.num_frames} frames, {info.size:,} bytes"
            )
        for at in ("first", "last", args.duration / 2):
            wall, cpu = _best(args.repeat, lambda at=at: grab_frame(text, folder / "f.png", at))
            print(f"grab {at!s:<6} {wall:6.3f} s wall {cpu:6.3f} s cpu")


if __name__ == "__main__":
    main()
