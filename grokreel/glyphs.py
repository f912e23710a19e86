"""The storyboard's own font, and a warning for text that no installed font can draw.

Text is drawn by the animatic (prompts on its drafts) and by the cut (titles, captions). A
character that no font of the chain has would come out as a box; ``validate`` says so, on the
line of the text, naming the characters and the fix. Only text beyond ASCII is checked, so a
plain storyboard compiles without looking at a font.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from . import fonts
from .config import Config
from .spec.files import Files
from .spec.model import Storyboard
from .spec.source import Loc

__all__ = ["FONT_SUFFIXES", "check_glyphs", "font_ref"]

FONT_SUFFIXES = (".ttf", ".otf", ".ttc")
_FONT_HINT = "a TrueType or OpenType font file: .ttf, .otf or .ttc"


class Host(Protocol):
    """What the checks need from the compiler."""

    board: Storyboard
    files: Files
    config: Config
    problems: list[Any]

    def error(self, loc: Loc, message: str, hint: str = "", *, key: bool = False) -> None: ...
    def warn(self, loc: Loc, message: str, hint: str = "") -> None: ...


def font_ref(host: Host) -> str | None:
    """``file:PATH`` of ``output.font`` (else ``[fonts] path`` in grokreel.toml), or None."""
    if host.board.output.font:
        return _font_file(host, ("output", "font"), host.board.output.font)
    listed = host.config.table("fonts")
    text = listed.get("path") if isinstance(listed, dict) else None
    if text is None or host.config.path is None:
        return None
    if not isinstance(text, str):
        host.problems.append(host.config.error("fonts", "path", "`path` should be a file name"))
        return None
    problem, ref = _font_problem(host.files, str(host.config.path.parent / text))
    if problem:
        host.problems.append(host.config.error("fonts", "path", problem, _FONT_HINT))
    return ref


def _font_file(host: Host, loc: Loc, text: str) -> str | None:
    problem, ref = _font_problem(host.files, text)
    if problem:
        host.error(loc, problem, _FONT_HINT)
    return ref


def _font_problem(files: Files, text: str) -> tuple[str, str | None]:
    info = files.info(text)
    if info.problem or info.path is None:
        return info.problem or f"cannot read `{text}`", None
    if info.path.suffix.lower() not in FONT_SUFFIXES:
        return f"`{Path(text).name}` is not a font file", None
    return "", f"file:{info.path}"


def check_glyphs(host: Host, font: str | None) -> None:
    """Warn where a prompt, edit, caption or title has characters no font can draw."""
    own = font[5:] if font else None
    for name, shot in host.board.shots.items():
        _check(host, ("shots", name, "prompt"), shot.prompt, None)
        if shot.edit is not None:
            _check(host, ("shots", name, "edit"), shot.edit.prompt, None)
        if shot.caption:
            _check(host, ("shots", name, "caption"), shot.caption, own)
    for i, item in enumerate(host.board.cut or []):
        if item.title is not None:
            _check(host, ("cut", i, "title"), item.title.text, own)


def _check(host: Host, loc: Loc, text: str, font: str | None) -> None:
    lacking = fonts.missing(text, font)
    if not lacking:
        return
    named = ", ".join(f"{c} (U+{ord(c):04X})" for c in lacking[:8])
    more = f" and {len(lacking) - 8} more" if len(lacking) > 8 else ""
    where = "the draft" if loc[-1] in ("prompt", "edit") else "the film"
    fix = (
        "install a font that has them (e.g. Debian's fonts-noto-cjk or fonts-noto-core)"
        if loc[-1] in ("prompt", "edit")
        else "set `font:` under `output` (or `path` under `[fonts]` in grokreel.toml) to a "
        ".ttf/.otf that has them, or install one (e.g. Debian's fonts-noto-cjk)"
    )
    host.warn(loc, f"no installed font draws {named}{more}: {where} would show boxes", fix)
