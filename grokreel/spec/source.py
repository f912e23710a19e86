"""YAML text → plain Python data plus the line and column of every value and key.

PyYAML's composer keeps marks on nodes; we walk the node tree once, so every later stage (pydantic
validation, the compiler's checks) can point an error at ``FILE:LINE:COL``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import Diagnostic

__all__ = ["Source", "parse_yaml"]

Loc = tuple[str | int, ...]
_RATIO = re.compile(r"^\d+:\d+$")
_BOOL = "tag:yaml.org,2002:bool"


@dataclass
class Source:
    """A parsed storyboard file: its data and where each piece of it stands."""

    path: Path
    data: Any = None
    values: dict[Loc, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Loc, tuple[int, int]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.path)

    def where(self, loc: Loc, *, key: bool = False) -> tuple[int, int]:
        """Line and column of ``loc``, or of its nearest located ancestor."""
        loc = tuple(loc)
        if key and loc in self.keys:
            return self.keys[loc]
        while loc and loc not in self.values:
            loc = loc[:-1]
        return self.values.get(loc, (1, 1))

    def diag(
        self, loc: Loc, message: str, hint: str = "", *, key: bool = False, severity: str = "error"
    ) -> Diagnostic:
        line, column = self.where(loc, key=key)
        return Diagnostic(self.name, line, column, message, hint, severity)  # type: ignore[arg-type]


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _Builder:
    def __init__(self, source: Source, problems: list[Diagnostic]):
        self.source = source
        self.problems = problems
        self.constructor = yaml.SafeLoader("")  # scalar resolution exactly as safe_load does

    def build(self, node: yaml.Node, loc: Loc) -> Any:
        self.source.values[loc] = _mark(node)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, loc)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, loc + (i,)) for i, item in enumerate(node.value)]
        if node.style is None and _RATIO.match(str(node.value)):
            return node.value  # YAML 1.1 reads a plain 16:9 as the base-60 integer 969
        if node.tag == _BOOL and str(node.value).lower() not in ("true", "false"):
            return node.value  # YAML 1.1 reads yes/no/on/off as booleans; YAML 1.2 does not
        return self.constructor.construct_object(node, deep=True)

    def _mapping(self, node: yaml.MappingNode, loc: Loc) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self.constructor.construct_object(key_node, deep=True)
            if key == "<<":
                self.problems.append(
                    self.source.diag(
                        loc,
                        "YAML merge keys (<<) are not supported",
                        "repeat the keys, or use `defaults:`",
                    )
                )
                continue
            if not isinstance(key, str | int):
                key = str(key)
            if key in out:
                line, col = _mark(key_node)
                self.problems.append(
                    Diagnostic(
                        self.source.name,
                        line,
                        col,
                        f"duplicate key `{key}`",
                        "each key may appear once; remove or rename one",
                    )
                )
                continue
            self.source.keys[loc + (key,)] = _mark(key_node)
            out[key] = self.build(value_node, loc + (key,))
        return out


def parse_yaml(text: str, path: Path) -> tuple[Source, list[Diagnostic]]:
    """Parse ``text``; YAML syntax errors come back as diagnostics, never as exceptions."""
    source = Source(path)
    problems: list[Diagnostic] = []
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or "invalid YAML"
        context = f" ({exc.context})" if exc.context else ""
        problems.append(
            Diagnostic(
                source.name,
                line,
                col,
                f"YAML syntax error: {problem}{context}",
                "check indentation, colons and quotes around this place",
            )
        )
        return source, problems
    except yaml.YAMLError as exc:
        problems.append(Diagnostic(source.name, 1, 1, f"YAML error: {exc}"))
        return source, problems
    if root is None:
        problems.append(
            Diagnostic(
                source.name,
                1,
                1,
                "the storyboard is empty",
                "start with `shots:`; see docs/storyboard.md",
            )
        )
        return source, problems
    source.data = _Builder(source, problems).build(root, ())
    return source, problems
