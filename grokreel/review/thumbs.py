"""Thumbnails of a clip (first, middle, last frame), made once per clip and cached by its hash.

They sit in the cache folder under ``thumbs/``, named by the clip's content hash and this module's
format version (``THUMB_FORMAT``): a clip is never thumbnailed twice, a changed format makes new
ones. They are derived data outside the object store: `gc` removes those whose clip is gone.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import MediaError

if TYPE_CHECKING:
    from PIL import Image

    from ..cache.store import Store

__all__ = ["FRAMES", "THUMB_FORMAT", "cached_thumbnails", "thumbnails"]

FRAMES = ("first", "middle", "last")
THUMB_FORMAT = {"version": 1, "width": 320, "quality": 80}
_NAME = re.compile(r"([0-9a-f]{64})-[a-z]+-v\d+w\d+\.jpg")  # {clip sha}-{frame}-{tag}.jpg


def thumbnails(store: Store, clip_sha: str) -> dict[str, Path]:
    """``{"first"|"middle"|"last": path}`` of the clip's JPEG thumbnails, made when missing."""
    folder = store.root / "thumbs" / clip_sha[:2]
    tag = f"v{THUMB_FORMAT['version']}w{THUMB_FORMAT['width']}"
    paths = {name: folder / f"{clip_sha}-{name}-{tag}.jpg" for name in FRAMES}
    if all(p.is_file() for p in paths.values()):
        return paths
    from ..media.frames import frame_image  # the media stack only when a thumbnail is missing
    from ..media.probe import probe

    workdir = store.workdir()
    try:
        clip = store.open_verified(clip_sha)
        length = probe(clip).video_duration
        spots: dict[str, str | float] = {"first": "first", "middle": length / 2, "last": "last"}
        folder.mkdir(parents=True, exist_ok=True)
        for name, at in spots.items():
            try:
                image = frame_image(clip, at)
            except MediaError:  # a clip too short to seek into: its first frame stands in
                image = frame_image(clip, "first")
            os.replace(_shrink(image, workdir / f"{name}.jpg"), paths[name])
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return paths


def cached_thumbnails(store: Store) -> Iterator[tuple[Path, str]]:
    """Every thumbnail file in the cache (of any format version), with the hash of its clip."""
    for path in sorted((store.root / "thumbs").glob("??/*.jpg")):
        named = _NAME.fullmatch(path.name)
        if named and path.parent.name == named.group(1)[:2]:
            yield path, named.group(1)


def _shrink(image: Image.Image, dest: Path) -> Path:
    from PIL import Image

    width = THUMB_FORMAT["width"]
    height = max(2, round(image.height * width / image.width))
    image.convert("RGB").resize((width, height), Image.Resampling.LANCZOS).save(
        dest, format="JPEG", quality=THUMB_FORMAT["quality"]
    )
    return dest
