"""grokreel: make for AI films.

    >>> import grokreel
    >>> project = grokreel.open_project("storyboards/minimal.yaml")   # compile + pick cache/backend
    >>> [s.status for s in project.status()]                          # what a build would do
    >>> result = project.build(jobs=2)                                # render what changed, cut
    >>> result.output

The pipeline reads as the package: ``spec`` (YAML → models) → ``plan`` (pure DAG of jobs) →
``execute`` (the only stage that waits on backends) → ``cut`` (assembly) → ``report``.
"""

import typing as _typing
from importlib import import_module as _import_module

from .errors import (  # plain classes: cheap to import here
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

if _typing.TYPE_CHECKING:
    from .build import BuildResult, Project, open_project
    from .plan import Job, Plan, compile_file

# Where the other public names live. They are imported on first use (PEP 562), not here: the
# command line imports `grokreel.cli` through this package, and `grokreel validate` has no use
# for the build machinery (asyncio, file locks, the runner) that `grokreel.build` would import.
_HOMES = {
    **dict.fromkeys(("BuildResult", "Project", "open_project"), "build"),
    **dict.fromkeys(("Job", "Plan", "compile_file"), "plan"),
}

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


def __getattr__(name: str) -> object:
    """Import a public name's module the first time the name is used."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(_import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
