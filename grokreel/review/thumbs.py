"""Thumbnails of a clip (first, middle, last frame), made once per clip and cached by its hash.

They live in the cache like any output: three JPEG blobs, found through an action record whose
key is a hash of the clip's hash and this module's format, so a clip never gets thumbnailed twice
and a changed format (``THUMB_FORMAT``) makes new ones instead of serving old ones.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

from ..errors import MediaError
from ..media.frames import grab_frame
from ..media.probe import probe

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["FRAMES", "THUMB_FORMAT", "thumbnails"]

FRAMES = ("first", "middle", "last")
THUMB_FORMAT = {"version": 1, "width": 320, "format": "jpeg", "quality": 80}


def thumbnails(store: Store, clip_sha: str) -> dict[str, str]:
    """``{"first"|"middle"|"last": sha}`` of the clip's thumbnail blobs, made when missing."""
    key = _key(clip_sha)
    record = store.get_action(key)
    if record and all(store.has(sha) for sha in record["frames"].values()):
        return dict(record["frames"])
    workdir = store.workdir()
    try:
        frames = _make(store, store.blob_path(clip_sha), workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    store.put_action(
        key,
        {
            "key": key,
            "job": f"thumbnails of {clip_sha[:12]}",
            "kind": "thumbnails",
            "request": {"source": f"sha256:{clip_sha}", **THUMB_FORMAT},
            "output": frames["middle"],
            "size": store.blob_path(frames["middle"]).stat().st_size,
            "frames": frames,
            "created": time.time(),
        },
    )
    return frames


def _key(clip_sha: str) -> str:
    text = f"thumbnails:{clip_sha}:{sorted(THUMB_FORMAT.items())}"
    return hashlib.sha256(text.encode()).hexdigest()


def _make(store: Store, clip: Path, workdir: Path) -> dict[str, str]:
    """Grab the three frames, shrink them to JPEG, and put each in the store."""
    length = probe(clip).video_duration
    spots: dict[str, str | float] = {"first": "first", "middle": length / 2, "last": "last"}
    out = {}
    for name, at in spots.items():
        png = workdir / f"{name}.png"
        try:
            grab_frame(clip, png, at)
        except MediaError:  # a clip too short to seek into: its first frame stands in
            grab_frame(clip, png, "first")
        out[name] = store.put(_shrink(png, workdir / f"{name}.jpg"))[0]
    return out


def _shrink(png: Path, dest: Path) -> Path:
    with Image.open(png) as image:
        width = THUMB_FORMAT["width"]
        height = max(2, round(image.height * width / image.width))
        image.convert("RGB").resize((width, height), Image.Resampling.LANCZOS).save(
            dest, format="JPEG", quality=THUMB_FORMAT["quality"]
        )
    return dest
