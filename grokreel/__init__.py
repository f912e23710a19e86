"""grokreel: make for AI films.

    >>> import grokreel
    >>> project = grokreel.open_project("storyboards/minimal.yaml")   # compile + pick cache/backend
    >>> [s.status for s in project.status()]                          # what a build would do
    >>> result = project.build(jobs=2)                                # render what changed, cut
    >>> result.output

The pipeline reads as the package: ``spec`` (YAML → models) → ``plan`` (pure DAG of jobs) →
``execute`` (the only stage that waits on backends) → ``cut`` (assembly) → ``report``.
"""

from .build import BuildResult, Project, open_project
from .errors import (
    AuthError,
    BackendError,
    BuildFailed,
    Diagnostic,
    GrokreelError,
    MediaError,
    PlanError,
    ShotRejected,
    StoreError,
    StoryboardError,
)
from .plan import Job, Plan, compile_file

__all__ = [
    "AuthError",
    "BackendError",
    "BuildFailed",
    "BuildResult",
    "Diagnostic",
    "GrokreelError",
    "Job",
    "MediaError",
    "Plan",
    "PlanError",
    "Project",
    "ShotRejected",
    "StoreError",
    "StoryboardError",
    "compile_file",
    "open_project",
]
