"""The shape stage: parsed YAML → models, every pydantic error turned into a located sentence.

A shape error does not stop the later stages. The broken part is set aside (a bad `duration` falls
back to its default, a shot with a bad source is left out) and validation runs again, so names,
timing, ranges and files are still checked on everything else. ``Shape`` remembers what was set
aside so that later stages do not report the same mistake a second time.
"""

from __future__ import annotations

import copy
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import Diagnostic, StoryboardError
from .model import Storyboard
from .source import Loc, Source, parse_yaml

__all__ = ["Shape", "describe", "pydantic_diagnostics", "read_source", "validate"]

# Pydantic's loc holds names of union members and validator steps; they are not keys of the file.
_NOT_KEYS = {"str", "int", "float", "bool", "function-before", "function-after", "function-plain"}
_SHOT_LEAVES = {
    "duration",
    "resolution",
    "aspect_ratio",
    "take",
    "title",
    "note",
    "caption",
    "edit",
}
_CUT_LEAVES = {"in", "out", "transition", "fade_out", "mute", "title", "duration", "background"}
_BROKEN_CLIP = {"title": "(set aside)"}  # stands in for a cut item that failed, keeping indices
_MAX_PASSES = 8
HELP = "see `grokreel help storyboard`"
_SHAPES = {
    "Storyboard": "a storyboard is a mapping with a `shots:` key",
    "Shot": "a shot is a mapping with at least `prompt:`",
    "Asset": "an asset is a path, a URL, or `{path: …, kind: image}`",
    "MediaRef": "a source is a shot or asset name, a path, a URL, or `{shot: NAME, frame: last}`",
    "CutItem": "a cut item is a shot name, `{shot: NAME, …}` or a title card `{title: TEXT}`",
    "Title": "a title is text, or `{text: …, start: 0, duration: 2}`",
    "Transition": "a transition is `cut`, `crossfade`, `fade`, or `{type: …, duration: 0.5}`",
    "PostEdit": "an edit is a prompt, or `{prompt: …, resolution: 480p}`",
    "Music": "music is an asset name, a path, or `{asset or path, volume, …}`",
}


@dataclass
class Shape:
    """The shape stage's findings: its problems, and what it set aside (locs and names)."""

    problems: list[Diagnostic] = field(default_factory=list)
    broken: set[Loc] = field(default_factory=set)
    names: set[str] = field(default_factory=set)  # shots and assets whose definition is broken

    def covers(self, loc: Loc) -> bool:
        """Whether ``loc`` lies inside something already reported and set aside."""
        return _inside(loc, self.broken)

    def touches(self, loc: Loc) -> bool:
        """Whether ``loc`` lies inside, or contains, something set aside."""
        return self.covers(loc) or any(b[: len(loc)] == loc for b in self.broken)


def _inside(loc: Loc, parts: set[Loc]) -> bool:
    return any(loc[: len(b)] == b for b in parts)


def read_source(path: Path) -> tuple[Source, list[Diagnostic]]:
    """Read and parse ``path``; raise StoryboardError only when nothing at all could be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StoryboardError(
            [Diagnostic(str(path), 1, 1, "no such storyboard file", "check the path")]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StoryboardError(
            [Diagnostic(str(path), 1, 1, f"cannot read the file: {exc}")]
        ) from None
    source, problems = parse_yaml(text, path)
    if source.data is None:
        raise StoryboardError(problems)
    return source, problems


def validate(source: Source) -> tuple[Storyboard | None, Shape]:
    """Validate the parsed data, setting broken parts aside until what is left is valid."""
    shape = Shape(broken=set(source.unread))
    if not isinstance(source.data, dict):
        shape.problems.append(source.diag((), _SHAPES["Storyboard"], "start with `shots:`"))
        return None, shape
    data = copy.deepcopy(source.data)
    for attempt in range(_MAX_PASSES):
        try:
            return Storyboard.model_validate(data), shape
        except ValidationError as exc:
            if not _set_aside(source, data, exc, shape, first=attempt == 0):
                break
    return None, shape


def _set_aside(
    source: Source, data: dict[str, Any], exc: ValidationError, shape: Shape, *, first: bool
) -> bool:
    """Report each error (once) and remove what it is about; False when nothing could go."""
    progressed = False
    seen: set[Loc] = set()
    for err in exc.errors():
        loc = clean_loc(err["loc"])
        refused = _inside(loc, source.unread)  # the YAML stage reported it already
        new = loc not in seen and not refused and (first or not shape.touches(loc))
        if new:
            shape.problems.append(diagnostic(source, err))
        seen.add(loc)
        progressed |= _remove(data, _unit(loc, err["type"]), shape)
    return progressed


def _unit(loc: Loc, kind: str) -> Loc:
    """The smallest part around ``loc`` that can be left out while the rest still makes sense."""
    if kind == "missing":
        loc = loc[:-1]
    if kind == "extra_forbidden" or not loc:
        return loc
    if loc[0] == "shots" and len(loc) >= 3 and loc[2] in _SHOT_LEAVES:
        return loc[:3]
    if loc[0] == "cut" and len(loc) >= 3 and loc[2] in _CUT_LEAVES:
        return loc[:3]
    return loc[:2]


def _remove(data: Any, loc: Loc, shape: Shape) -> bool:
    """Set ``loc`` aside: drop its key, or fill its list slot with a stand-in (indices stay)."""
    parent = data
    for part in loc[:-1]:
        try:
            parent = parent[part]
        except (KeyError, IndexError, TypeError):
            return False
    if not loc or loc in shape.broken:
        return False
    shape.broken.add(loc)
    if loc[0] in ("shots", "assets") and len(loc) == 2:
        shape.names.add(str(loc[1]))
    if isinstance(parent, list) and isinstance(loc[-1], int) and loc[-1] < len(parent):
        parent[loc[-1]] = dict(_BROKEN_CLIP) if loc[0] == "cut" else ""
        return True
    if isinstance(parent, dict):
        parent.pop(loc[-1], None)
    return True


def clean_loc(loc: tuple[Any, ...]) -> Loc:
    """Pydantic's location without its validator steps and union member names."""
    return tuple(p for p in loc if not (isinstance(p, str) and _is_pydantic_step(p)))


def _is_pydantic_step(part: str) -> bool:
    return part in _NOT_KEYS or "[" in part or part.startswith(("constrained-", "literal"))


def pydantic_diagnostics(
    source: Source, exc: ValidationError, prefix: Loc, model: type[BaseModel]
) -> list[Diagnostic]:
    """Diagnostics for ``model`` validated from the value at ``prefix`` (e.g. `prices:`)."""
    out = []
    for err in exc.errors():
        out.append(diagnostic(source, dict(err, loc=prefix + tuple(err["loc"])), model, prefix))
    return out


def diagnostic(
    source: Source, err: Any, model: type[BaseModel] = Storyboard, prefix: Loc = ()
) -> Diagnostic:
    """One pydantic error as a located sentence for the author."""
    loc = clean_loc(err["loc"])
    kind, where = err["type"], ".".join(str(p) for p in loc) or "storyboard"
    on_key = err["loc"][-1] == "[key]" if err["loc"] else False
    if kind == "extra_forbidden":
        key = loc[-1]
        hint = _suggest(key, _allowed_keys(loc[len(prefix) : -1], model))
        parent = ".".join(map(str, loc[:-1])) or "the top level"
        return source.diag(loc, f"unknown key `{key}` in {parent}", hint, key=True)
    if kind == "missing":
        parent = ".".join(map(str, loc[:-1]))
        return source.diag(loc[:-1], f"missing required key `{loc[-1]}` in {parent}", "add it")
    if on_key:
        message = "is not a valid name: use letters, digits, `_` and `-`, starting with a letter"
        return source.diag(loc, f"`{loc[-1]}` {message}", "rename it", key=True)
    sentence = describe(err)
    joiner = " " if sentence.startswith(("should", "has ", "is ")) else ": "
    return source.diag(loc, f"`{where}`{joiner}{sentence}", _hint_for(kind))


def describe(err: Any) -> str:
    """What a value with this pydantic error should be, and what it was."""
    return f"{_sentence(err)}{_shown(err)}"


def _sentence(err: Any) -> str:
    """Pydantic's message in plain words: what the value should be."""
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind in ("model_type", "model_attributes_type", "dict_type") and "class_name" in ctx:
        return f"has the wrong form: {_SHAPES.get(ctx['class_name'], 'a mapping is expected')}"
    plain = {
        "dict_type": "should be a mapping (`key: value` lines)",
        "list_type": "should be a list",
        "string_type": "should be text",
        "int_type": "should be a whole number",
        "float_type": "should be a number",
        "bool_type": "should be true or false",
        "bool_parsing": "should be true or false",
        "finite_number": "should be a finite number",
        "string_too_short": "should not be empty",
        "string_too_long": f"should be at most {ctx.get('max_length')} characters long",
        "too_short": f"should have at least {ctx.get('min_length')} item(s)",
        "too_long": f"should have at most {ctx.get('max_length')} item(s)",
        "extra_forbidden": "is not a known key",
        "greater_than_equal": f"should be at least {ctx.get('ge')}",
        "greater_than": f"should be more than {ctx.get('gt')}",
        "less_than_equal": f"should be at most {ctx.get('le')}",
        "less_than": f"should be less than {ctx.get('lt')}",
        "literal_error": f"should be {ctx.get('expected')}",
        "string_pattern_mismatch": "is not in a form allowed here",
    }
    if kind in plain:
        return plain[kind]
    message = str(err["msg"]).removeprefix("Value error, ")
    return message[0].lower() + message[1:].replace("Input should", "should") if message else ""


def _shown(err: Any) -> str:
    value = err.get("input")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return f" (got {str(value).lower()})" if isinstance(value, bool) else ""
    if isinstance(value, int) and abs(value) > 10**12:
        return " (got a very large number)"
    text = repr(value)
    return f" (got {text})" if len(text) < 60 else ""


def _hint_for(kind: str) -> str:
    return {
        "string_pattern_mismatch": "names use letters, digits, `_` and `-`, starting with a letter",
        "literal_error": "use one of the listed values",
        "greater_than_equal": "raise the value into the allowed range",
        "less_than_equal": "lower the value into the allowed range",
    }.get(kind, HELP)


def _allowed_keys(loc: Loc, root: type[BaseModel]) -> list[str]:
    model: type[BaseModel] | None = root
    for part in loc:
        if model is None:
            return []
        found = model.model_fields.get(str(part))
        if found is None:  # a name inside a mapping (shots.NAME) or an index
            continue
        model = _model_of(found.annotation)
    return [f.alias or name for name, f in model.model_fields.items()] if model else []


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_of(arg)
        if found:
            return found
    return None


def _suggest(key: Any, allowed: list[str]) -> str:
    close = difflib.get_close_matches(str(key), allowed, n=1)
    if close:
        return f"did you mean `{close[0]}`?"
    return f"allowed keys here: {', '.join(allowed)}" if allowed else "remove it"
