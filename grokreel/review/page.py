"""Write the review folder: ``index.html`` from the package's Jinja2 templates, plus its media.

The folder is self-contained: thumbnails and clips are copied (hard-linked where the filesystem
allows) into ``media/`` under their content hashes and linked relatively, so the page works from
``file://``, on a USB stick or in a zip, with no server and nothing fetched from elsewhere. Every
string from the storyboard goes through Jinja2's autoescaping.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import Environment, PackageLoader, select_autoescape

from ..cache.store import atomic_write_text
from .collect import Clip, Film
from .thumbs import FRAMES, thumbnails

if TYPE_CHECKING:
    from ..cache.store import Store

__all__ = ["render_page", "write_folder"]


def write_folder(film: Film, store: Store, folder: Path) -> Path:
    """Write ``folder/index.html`` and the media it links; return the page's path."""
    media = _Media(store, folder / "media")
    html = render_page(film, media)
    page = folder / "index.html"
    atomic_write_text(page, html)
    media.prune()
    return page


def render_page(film: Film, media: _Media) -> str:
    env = Environment(
        loader=PackageLoader("grokreel.review", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["usd"] = lambda value: "—" if value is None else f"${value:.2f}"
    env.filters["seconds"] = lambda value: "—" if value is None else f"{value:.1f} s"
    css = env.loader.get_source(env, "review.css")[0]  # type: ignore[union-attr]
    return env.get_template("index.html.j2").render(film=film, media=media, css=css, frames=FRAMES)


class _Media:
    """Relative links to clips and thumbnails, copying each into the folder once."""

    def __init__(self, store: Store, folder: Path):
        self.store = store
        self.folder = folder
        self.used: set[str] = set()
        self.made: dict[str, dict[str, str]] = {}

    def video(self, clip: Clip) -> str:
        return self._place(clip.sha, ".mp4")

    def thumbs(self, clip: Clip) -> dict[str, str]:
        if clip.sha not in self.made:
            made = thumbnails(self.store, clip.sha)
            self.made[clip.sha] = {name: self._copy(path) for name, path in made.items()}
        return self.made[clip.sha]

    def _place(self, sha: str, suffix: str) -> str:
        name = f"{sha[:32]}{suffix}"
        if not (self.folder / name).exists():
            self._put(self.store.open_verified(sha), name)
        self.used.add(name)
        return f"media/{name}"

    def _copy(self, thumb: Path) -> str:
        """A thumbnail, under its own (content-addressed) name."""
        if not (self.folder / thumb.name).exists():
            self._put(thumb, thumb.name)
        self.used.add(thumb.name)
        return f"media/{thumb.name}"

    def _put(self, src: Path, name: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        _link_or_copy(src, self.folder / name)

    def prune(self) -> None:
        """Remove media an earlier page linked and this one no longer does."""
        if self.folder.is_dir():
            for path in self.folder.iterdir():
                if path.name not in self.used:
                    path.unlink(missing_ok=True)


def _link_or_copy(src: Path, dest: Path) -> None:
    partial = dest.with_name(dest.name + ".partial")
    try:
        os.link(src, partial)
    except OSError:
        shutil.copyfile(src, partial)
    os.replace(partial, dest)
