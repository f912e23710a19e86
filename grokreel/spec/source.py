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
_PLAIN_TAGS = {
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "timestamp", "seq", "map")
}
MAX_VALUES = 100_000  # far beyond any real storyboard; an alias bomb stops here, fast
MAX_DEPTH = 64
_BOMB = "YAML aliases (*name) repeat values; expand them less, or write the values out"
_CYCLE = "an anchor (&name) cannot be used inside its own value"
_DEEP = "a storyboard needs only a few levels; flatten the structure"
_TAG = "remove the tag: a storyboard holds plain text, numbers, lists and mappings"
_MERGE = "repeat the keys, or use `defaults:`"
_DUPLICATE = "each key may appear once; remove or rename one"
_CHARS = "remove control characters; save the file as UTF-8 text"
_EMPTY = "start with `shots:`; see `grokreel help storyboard`"


@dataclass
class Source:
    """A parsed storyboard file: its data and where each piece of it stands."""

    path: Path
    data: Any = None
    values: dict[Loc, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Loc, tuple[int, int]] = field(default_factory=dict)
    unread: set[Loc] = field(default_factory=set)  # values the YAML stage refused (reported)

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


def _sizes(root: yaml.Node) -> dict[int, int]:
    """Values each node expands to, aliases included, in time linear in the distinct nodes."""
    sizes: dict[int, int] = {}

    def size(node: yaml.Node) -> int:
        if id(node) in sizes:
            return sizes[id(node)]
        sizes[id(node)] = 1  # a node met again while open is a cycle: the builder reports it
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        total = 1 + sum(size(child) for child in children)
        sizes[id(node)] = min(total, 10 * MAX_VALUES)
        return sizes[id(node)]

    size(root)
    return sizes


def _explosion(root: yaml.Node, sizes: dict[int, int]) -> yaml.Node:
    """Where a too-large document multiplies: the deepest node still over the budget."""
    node = root
    while True:
        children = node.value if isinstance(node, yaml.SequenceNode | yaml.MappingNode) else []
        flat = [c for item in children for c in (item if isinstance(item, tuple) else (item,))]
        big = [c for c in flat if sizes.get(id(c), 0) > MAX_VALUES]
        if not big:
            return node
        node = big[0]


class _Builder:
    """Walks the composed node graph once, refusing what plain storyboard data cannot hold.

    Tags beyond YAML's plain scalars, aliases that contain themselves and documents that expand
    (through aliases) past ``MAX_VALUES`` become diagnostics, so no YAML input raises or hangs.
    """

    def __init__(self, source: Source, problems: list[Diagnostic]):
        self.source = source
        self.problems = problems
        self.constructor = yaml.SafeLoader("")  # scalar resolution exactly as safe_load does
        self.open: set[int] = set()  # ids of the nodes being built: an alias to one is a cycle

    def problem(self, node: yaml.Node, message: str, hint: str, loc: Loc | None = None) -> None:
        if loc is not None:
            self.source.unread.add(loc)
        line, col = _mark(node)
        self.problems.append(Diagnostic(self.source.name, line, col, message, hint))

    def build(self, node: yaml.Node, loc: Loc) -> Any:
        if id(node) in self.open:
            self.problem(node, "a YAML alias refers to a value that contains it", _CYCLE, loc)
            return None
        if len(loc) > MAX_DEPTH:
            self.problem(node, f"values are nested more than {MAX_DEPTH} levels deep", _DEEP, loc)
            return None
        self.source.values[loc] = _mark(node)
        if node.tag not in _PLAIN_TAGS:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            self.problem(node, f"the YAML tag `{tag}` is not allowed in a storyboard", _TAG, loc)
            return None
        self.open.add(id(node))
        try:
            return self._value(node, loc)
        finally:
            self.open.discard(id(node))

    def _value(self, node: yaml.Node, loc: Loc) -> Any:
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, loc)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, loc + (i,)) for i, item in enumerate(node.value)]
        if not node.style and _RATIO.match(str(node.value)):  # plain: None, or "" from libyaml
            return node.value  # YAML 1.1 reads a plain 16:9 as the base-60 integer 969
        if node.tag == _BOOL and str(node.value).lower() not in ("true", "false"):
            return node.value  # YAML 1.1 reads yes/no/on/off as booleans; YAML 1.2 does not
        try:
            return self.constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError) as exc:
            self.problem(node, f"cannot read this value: {exc}", "write it as plain text", loc)
            return None

    def _key(self, node: yaml.Node) -> Any:
        if not isinstance(node, yaml.ScalarNode) or node.tag not in _PLAIN_TAGS:
            self.problem(node, "a key must be plain text", "write the key as a word")
            return None
        key = self._value(node, ())
        return key if isinstance(key, str | int) or key is None else str(key)

    def _mapping(self, node: yaml.MappingNode, loc: Loc) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.problem(key_node, "YAML merge keys (<<) are not supported", _MERGE)
                continue
            key = self._key(key_node)
            if key is None:
                continue
            if key in out:
                self.problem(key_node, f"duplicate key `{key}`", _DUPLICATE)
                continue
            self.source.keys[loc + (key,)] = _mark(key_node)
            out[key] = self.build(value_node, loc + (key,))
        return out


def parse_yaml(text: str, path: Path) -> tuple[Source, list[Diagnostic]]:
    """Parse ``text``; YAML syntax errors come back as diagnostics, never as exceptions.

    ``source.data`` stays None when nothing could be read; otherwise it holds what could.
    """
    source = Source(path)
    try:
        root = _compose(text)
    except yaml.MarkedYAMLError as exc:
        return source, [_syntax_error(source.name, exc)]
    except yaml.reader.ReaderError as exc:
        line, col = _position(text, exc.position)
        return source, [Diagnostic(source.name, line, col, f"YAML error: {exc.reason}", _CHARS)]
    except yaml.YAMLError as exc:
        return source, [Diagnostic(source.name, 1, 1, f"YAML error: {exc}")]
    except RecursionError:
        return source, [Diagnostic(source.name, 1, 1, "YAML is nested too deeply", _DEEP)]
    if root is None:
        return source, [Diagnostic(source.name, 1, 1, "the storyboard is empty", _EMPTY)]
    try:
        sizes = _sizes(root)
    except RecursionError:
        return source, [Diagnostic(source.name, 1, 1, "YAML is nested too deeply", _DEEP)]
    if sizes[id(root)] > MAX_VALUES:
        line, col = _mark(_explosion(root, sizes))
        message = f"the storyboard expands to more than {MAX_VALUES:,} values"
        return source, [Diagnostic(source.name, line, col, message, _BOMB)]
    problems: list[Diagnostic] = []
    source.data = _Builder(source, problems).build(root, ())
    return source, problems


def _compose(text: str) -> yaml.Node | None:
    """The node tree, by libyaml when PyYAML has it (a 300-shot board: ~5× faster); a file it
    refuses is read again by the pure-Python parser, whose error messages are the ones we show."""
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            return yaml.compose(text, Loader=fast)
        except yaml.YAMLError:
            pass
    return yaml.compose(text, Loader=yaml.SafeLoader)


def _syntax_error(name: str, exc: yaml.MarkedYAMLError) -> Diagnostic:
    """Locate at the problem, except where the file ended early: there, where the value opened."""
    at_end = "end of stream" in (exc.problem or "") and exc.context_mark is not None
    mark = exc.context_mark if at_end else exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    context = f" ({exc.context})" if exc.context and not at_end else ""
    what = f"{exc.context}: {exc.problem}" if at_end else f"{exc.problem or 'invalid YAML'}"
    hint = "close it" if at_end else "check indentation, colons and quotes around this place"
    return Diagnostic(name, line, col, f"YAML syntax error: {what}{context}", hint)


def _position(text: str, offset: int) -> tuple[int, int]:
    before = text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1
