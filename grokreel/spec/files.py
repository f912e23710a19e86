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
from typing import Literal

from ..config import Config
from ..errors import Diagnostic

__all__ = ["FileInfo", "Files", "MediaKind", "project_roots", "sniff"]

MediaKind = Literal["image", "video", "audio"]
_HEAD = 64
_ROOTS_HINT = "keep inputs inside the project folder, or list their folder under `[assets] roots`"


def sniff(head: bytes) -> MediaKind | None:
    """The media kind of a file from its first bytes (magic numbers), or None."""
    if head.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")):
        return "image"
    riff = head[8:12] if head.startswith(b"RIFF") else b""
    if riff == b"WEBP":
        return "image"
    if riff == b"AVI " or head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free"):
        return "video"  # MP4, MOV, M4V (and M4A: a sound track in the same container)
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video"  # Matroska and WebM
    if riff == b"WAVE" or head.startswith((b"ID3", b"OggS", b"fLaC")):
        return "audio"
    if len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return "audio"  # an MP3 or AAC frame header
    return None


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
                return FileInfo(path, sniff(handle.read(_HEAD)))
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
