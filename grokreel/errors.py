"""grokreel's one error tree. Every message is written for the person at the terminal.

GrokreelError
├── StoryboardError      the storyboard has problems (all of them, with FILE:LINE:COL)
├── PlanError            the film cannot be planned as asked (unknown target, locked build…)
├── StoreError           the cache holds something it should not (a hash mismatch)
│   └── RemoteError      the remote cache (S3) cannot be reached or refused a call
├── PathError            a file or folder the user named cannot be read or written as asked
├── MediaError           a video could not be made, read or decoded
├── BackendError         a render backend failed for one shot
│   ├── AuthError        the API key was rejected
│   └── ShotRejected     the API refused the request (validation, content policy)
└── BuildFailed          some jobs failed; carries every failure
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "AuthError",
    "BackendError",
    "BuildFailed",
    "Diagnostic",
    "GrokreelError",
    "MediaError",
    "PathError",
    "PlanError",
    "RemoteError",
    "ShotRejected",
    "StoreError",
    "StoryboardError",
]


class GrokreelError(Exception):
    """Base of every error grokreel raises on purpose: the CLI prints it without a traceback."""


@dataclass(frozen=True)
class Diagnostic:
    """One problem in a storyboard, located in its source file."""

    file: str
    line: int
    column: int
    message: str
    hint: str = ""
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        prefix = "" if self.severity == "error" else "warning: "
        text = f"{self.file}:{self.line}:{self.column}: {prefix}{self.message}"
        return f"{text}\n    hint: {self.hint}" if self.hint else text


class StoryboardError(GrokreelError):
    """The storyboard has one or more errors; all of them are listed."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = diagnostics
        errors = [d for d in diagnostics if d.severity == "error"]
        lines = [str(d) for d in diagnostics]
        lines.append(f"{len(errors)} error(s) in {diagnostics[0].file}" if errors else "")
        super().__init__("\n".join(line for line in lines if line))


class PlanError(GrokreelError):
    """The build cannot be planned as asked."""


class StoreError(GrokreelError):
    """The content store is damaged or a blob failed its hash check."""


class RemoteError(StoreError):
    """The remote cache cannot be reached or refused a call; the message never holds a secret."""


class PathError(GrokreelError):
    """A path the user gave (or a storyboard named) cannot be used; ``path`` says which."""

    def __init__(self, path: object, message: str):
        self.path = str(path)
        super().__init__(f"{path}: {message}")


class MediaError(GrokreelError):
    """A video or image could not be produced, read or decoded."""


class BackendError(GrokreelError):
    """A backend failed to render one job; names the shot and endpoint."""

    def __init__(self, message: str, *, shot: str | None = None, endpoint: str | None = None):
        self.shot = shot
        self.endpoint = endpoint
        where = " ".join(p for p in (f"shot `{shot}`" if shot else "", endpoint or "") if p)
        super().__init__(f"{where}: {message}" if where else message)


class AuthError(BackendError):
    """The API key was rejected (HTTP 401/403)."""


class ShotRejected(BackendError):
    """The API refused the request: a validation error or a content-policy rejection."""


class BuildFailed(GrokreelError):
    """Some jobs failed; ``failures`` maps node id to its error message."""

    def __init__(self, failures: dict[str, str]):
        self.failures = failures
        lines = [f"{len(failures)} job(s) failed:"] + [f"  {k}: {v}" for k, v in failures.items()]
        super().__init__("\n".join(lines))
