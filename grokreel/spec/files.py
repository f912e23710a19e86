"""The files stage: facts about the local files a storyboard names, for a compiler that reads none.

A storyboard may come from a stranger (a pull request in CI), and what it names may be uploaded to
a third party, so a path must resolve (symlinks followed) inside the project's roots, and a file
is what its bytes say, not what its name says. Video lengths are probed lazily, so only a
storyboard with a local video asset imports the media stack.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ..config import Config
from ..errors import Diagnostic
from ..media.sniff import HEAD_BYTES, MediaKind, sniff

__all__ = ["FileInfo", "Files", "MediaKind", "project_roots", "sniff"]

_ROOTS_HINT = "keep inputs inside the project folder, or list their folder under `[assets] roots`"


@dataclass(frozen=True)
class FileInfo:
    """One named file: where it is and what it holds, or why it cannot be used."""

    path: Path | None = None
    kind: MediaKind | None = None
    problem: str = ""
    hint: str = ""


def project_roots(storyboard: Path, config: Config) -> tuple[list[Path], list[Diagnostic]]:
    """Folders inputs may come from: the storyboard's, the config's, its `[assets] roots`."""
    roots = [storyboard.resolve().parent]
    if config.path is None:
        return roots, []
    roots.append(config.path.resolve().parent)
    extra = config.table("assets")
    listed = extra.get("roots", []) if isinstance(extra, dict) else None
    if not isinstance(listed, list) or not all(isinstance(r, str) for r in listed):
        message = "`[assets] roots` should be a list of folder names"
        return roots, [config.error("assets", "roots", message, 'e.g. roots = ["../shared"]')]
    roots += [(config.path.parent / r).resolve() for r in listed]
    return roots, []


class Files:
    """Facts about the files a storyboard names, read once each; the compiler's only file access."""

    def __init__(self, base: Path, roots: list[Path]):
        self.base, self.roots = base, roots
        self.info = cache(self._info)
        self.seconds = cache(self._seconds)

    def _info(self, text: str) -> FileInfo:
        try:
            path = (self.base / text).resolve()
            if not any(path.is_relative_to(root) for root in self.roots):
                return FileInfo(problem=f"`{text}` is outside the project root", hint=self._where())
            if not path.is_file():
                return FileInfo(
                    problem=f"file not found: {text}", hint=f"paths are relative to {self.base}"
                )
            with path.open("rb") as handle:
                return FileInfo(path, sniff(handle.read(HEAD_BYTES)))
        except (OSError, ValueError) as exc:
            return FileInfo(problem=f"cannot read `{text}`: {exc}", hint="check the path")

    def _where(self) -> str:
        return f"{_ROOTS_HINT} (allowed: {', '.join(str(r) for r in self.roots)})"

    def _seconds(self, text: str) -> float | None:
        """A local video's length; imports the media stack only when a storyboard has one."""
        info = self.info(text)
        if info.path is None or info.kind != "video":
            return None
        from ..media.probe import probe

        try:
            return probe(info.path).duration
        except Exception:  # an unreadable video: its use is reported by the build, not here
            return None
