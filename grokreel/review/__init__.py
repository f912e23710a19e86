"""The review page: every shot side by side with its prompts, status, costs, QA notes and takes.

``grokreel review FILE`` writes it, and so does every build (unless ``--no-review``), into
``FILE.review/index.html``: a static folder that opens from ``file://``. ``collect`` gathers the
data, ``thumbs`` makes (and caches) the thumbnails, ``page`` renders the templates.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .collect import Film, collect
from .page import write_folder

if TYPE_CHECKING:
    from ..build import Project
    from ..execute import Outcome
    from ..state import NodeStatus

__all__ = ["Film", "collect", "review_folder", "write_review"]


def review_folder(storyboard: Path) -> Path:
    """``knight.yaml`` → ``knight.review`` beside it."""
    return storyboard.with_name(storyboard.stem + ".review")


def write_review(
    project: Project,
    before: list[NodeStatus] | None = None,
    outcomes: dict[str, Outcome] | None = None,
) -> Path:
    """Write the storyboard's review page; ``before``/``outcomes`` come from a build just run."""
    film = collect(project, before, outcomes)
    return write_folder(film, project.store, review_folder(project.plan.path))
