"""`grokreel.toml`: the project file beside a storyboard or in a folder above it.

It holds ``[prices]`` (see cost.py) and ``[assets] roots``: folders, relative to the file, that
asset paths may point into besides the project folder. Its mistakes are located diagnostics in
the TOML file, like a storyboard's.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import Diagnostic, StoryboardError

__all__ = ["CONFIG_NAME", "Config", "find_config", "load_config", "project_root"]

CONFIG_NAME = "grokreel.toml"
_AT = re.compile(r"\(at line (\d+), column (\d+)\)|\(at end of document\)")


@dataclass
class Config:
    """The nearest grokreel.toml (``path`` None when there is none) and its parsed tables."""

    path: Path | None = None
    data: dict[str, Any] = field(default_factory=dict)
    text: str = ""

    def where(self, table: str, key: str | None = None) -> tuple[int, int]:
        """Line and column of ``key`` in ``[table]`` (or of the table), as near as a scan finds."""
        lines = self.text.splitlines()
        start = next((i for i, t in enumerate(lines) if t.strip() == f"[{table}]"), None)
        if start is None:
            return 1, 1
        if key is not None:
            for i in range(start + 1, len(lines)):
                stripped = lines[i].lstrip()
                if stripped.startswith("["):
                    break
                if re.match(rf'"?{re.escape(key)}"?\s*[=.]', stripped):
                    return i + 1, len(lines[i]) - len(stripped) + 1
        return start + 1, 1

    def error(self, table: str, key: str | None, message: str, hint: str = "") -> Diagnostic:
        line, column = self.where(table, key)
        return Diagnostic(str(self.path), line, column, message, hint)

    def table(self, name: str) -> Any:
        return self.data.get(name, {})


def find_config(storyboard: Path) -> Path | None:
    """The nearest grokreel.toml at or above the storyboard's folder."""
    folder = storyboard.resolve().parent
    found = (parent / CONFIG_NAME for parent in [folder, *folder.parents])
    return next((path for path in found if path.is_file()), None)


def project_root(storyboard: Path) -> Path:
    """The project's folder: its grokreel.toml's, else the storyboard's own."""
    config = find_config(storyboard)
    return config.parent if config else storyboard.resolve().parent


def load_config(storyboard: Path) -> Config:
    """The nearest grokreel.toml at or above the storyboard's folder; a broken one is an error."""
    path = find_config(storyboard)
    return _read(path) if path else Config()


def _read(path: Path) -> Config:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StoryboardError(
            [Diagnostic(str(path), 1, 1, f"cannot read the file: {exc}")]
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise StoryboardError([_syntax_error(path, text, str(exc))]) from None
    return Config(path, data, text)


def _syntax_error(path: Path, text: str, message: str) -> Diagnostic:
    """tomllib says where in its message: "(at line 3, column 7)" or "(at end of document)"."""
    match = _AT.search(message)
    if match and match.group(1):
        line, column = int(match.group(1)), int(match.group(2))
    else:
        line = max(1, len(text.splitlines()))
        column = len(text.splitlines()[-1]) + 1 if text.strip() else 1
    reason = _AT.sub("", message).strip()
    return Diagnostic(
        str(path), line, column, f"TOML syntax error: {reason}", "fix the TOML syntax"
    )
