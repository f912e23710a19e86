"""The review page: every shot side by side with its prompts, status, costs, QA notes and takes.

``grokreel review FILE`` writes it, and so does every build (unless ``--no-review``), into
``FILE.review/index.html``: a static folder that opens from ``file://``. ``collect`` gathers the
data, ``thumbs`` makes (and caches) the thumbnails, ``page`` renders the templates.
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import find_config
from .collect import Film, collect

if TYPE_CHECKING:
    from ..build import BuildResult, Project
    from ..execute import Outcome
    from ..state import NodeStatus

__all__ = ["Film", "collect", "review_after_build", "review_folder", "write_review"]


def review_folder(storyboard: Path) -> Path:
    """``knight.yaml`` → ``knight.review`` beside it."""
    return storyboard.with_name(storyboard.stem + ".review")


def write_review(
    project: Project,
    before: list[NodeStatus] | None = None,
    outcomes: dict[str, Outcome] | None = None,
) -> Path:
    """Write the storyboard's review page; ``before``/``outcomes`` come from a build just run.

    After a build, the page is left as it is when nothing it shows can have changed (the same
    storyboard, settings and templates, and every job with the same status, reasons and output):
    a no-op rebuild of a large board then costs no page at all."""
    folder = review_folder(project.plan.path)
    stamp = _fingerprint(project, before, outcomes) if outcomes is not None else None
    if stamp is not None and _stamped(folder) == stamp and (folder / "index.html").is_file():
        return folder / "index.html"
    from .page import write_folder  # Jinja2: only when there is a page to write

    film = collect(project, before, outcomes)
    page = write_folder(film, project.store, folder)
    if stamp is not None:
        (folder / STAMP).write_text(stamp)
    return page


def review_after_build(
    project: Project, before: list[NodeStatus], result: BuildResult
) -> Path | None:
    """The page after a build (`grokreel build`, each watch rebuild); a page that cannot be
    written becomes one of the build's warnings, never a failed build."""
    from ..errors import GrokreelError

    try:
        return write_review(project, before, result.outcomes)
    except (GrokreelError, OSError) as exc:
        result.warnings.append(f"the review page was not written: {exc}")
        return None


STAMP = ".inputs"  # the fingerprint of what the page in this folder was made from


def _fingerprint(
    project: Project, before: list[NodeStatus] | None, outcomes: dict[str, Outcome]
) -> str:
    """A digest of everything the page shows that a build can change."""
    config = find_config(project.plan.path)
    here = resources.files(__package__)
    code = [*here.iterdir(), *here.joinpath("templates").iterdir()]  # this page's own making
    digest = hashlib.sha256()
    for part in (
        project.backend,
        str(project.plan.draft),
        str(project.plan.output),
        project.plan.path.read_bytes(),
        config.read_bytes() if config else b"",
        *(f.read_bytes() for f in sorted(code, key=lambda f: f.name) if f.is_file()),
    ):
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\0")
    jobs = {job_id: [o.status, o.key, o.output, o.error] for job_id, o in sorted(outcomes.items())}
    reasons = {s.job.id: [s.status, s.reasons] for s in before or []}
    digest.update(json.dumps([jobs, reasons], sort_keys=True).encode())
    return digest.hexdigest()


def _stamped(folder: Path) -> str | None:
    try:
        return (folder / STAMP).read_text().strip()
    except OSError:
        return None
