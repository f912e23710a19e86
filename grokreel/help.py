"""`grokreel help [TOPIC]`: the storyboard reference, shipped inside the package.

The one copy of the text is ``grokreel/reference/storyboard.md`` (package data), so an installed
grokreel can show what its hints point at; the repository's docs/ folder links to it.
"""

from __future__ import annotations

import re
from importlib.resources import files

from .errors import GrokreelError

__all__ = ["TOPICS", "reference", "show"]

TOPICS = {  # topic → the section heading it shows
    "keys": "Top-level keys",
    "shots": "Shot keys",
    "files": "Files",
    "cut": "The cut",
    "checks": "Checks made before anything is paid",
    "jobs": "Jobs and cache keys",
}
_WHOLE = {"", "all", "storyboard"}


def reference() -> str:
    """The whole storyboard reference."""
    return files("grokreel").joinpath("reference/storyboard.md").read_text(encoding="utf-8")


def show(topic: str | None = None) -> str:
    """The reference, or one section of it; an unknown topic names the known ones."""
    wanted = (topic or "").strip().lower()
    text = reference()
    if wanted in _WHOLE:
        return text
    heading = TOPICS.get(wanted) or TOPICS.get(wanted.rstrip("s") + "s")
    if heading is None:
        known = ", ".join(["storyboard", *TOPICS])
        raise GrokreelError(f"no help topic `{topic}`; topics: {known}")
    return _section(text, heading)


def _section(text: str, heading: str) -> str:
    parts = re.split(r"^(?=## )", text, flags=re.MULTILINE)
    return next(p for p in parts if p.startswith(f"## {heading}\n")).rstrip() + "\n"
