"""Read a storyboard file into validated models, turning every pydantic error into a located one."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import Diagnostic, StoryboardError
from .model import Storyboard
from .source import Loc, Source, parse_yaml

__all__ = ["load_source", "validate"]

# Pydantic's loc holds names of union members and validator steps; they are not keys of the file.
_NOT_KEYS = {"str", "int", "float", "function-before", "function-after", "literal['first','last']"}


def load_source(path: Path) -> Source:
    """Read and parse ``path``; a missing file or bad YAML raises StoryboardError."""
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
    if problems:
        raise StoryboardError(problems)
    return source


def validate(source: Source) -> Storyboard:
    """Validate the parsed data; every shape or range error is reported at once."""
    if not isinstance(source.data, dict):
        raise StoryboardError(
            [
                source.diag(
                    (), "a storyboard is a mapping with a `shots:` key", "see docs/storyboard.md"
                )
            ]
        )
    try:
        return Storyboard.model_validate(source.data)
    except ValidationError as exc:
        errors = exc.errors()
        diags = [_diagnostic(source, err) for err in errors]
        raise StoryboardError(_dedupe(diags, [_clean_loc(e["loc"]) for e in errors])) from None


def _clean_loc(loc: tuple[Any, ...]) -> Loc:
    return tuple(p for p in loc if not (isinstance(p, str) and _is_pydantic_step(p)))


def _is_pydantic_step(part: str) -> bool:
    return part in _NOT_KEYS or "[" in part or part.startswith("constrained-")


def _diagnostic(source: Source, err: Any) -> Diagnostic:
    loc = _clean_loc(err["loc"])
    kind, where = err["type"], ".".join(str(p) for p in loc) or "storyboard"
    on_key = err["loc"][-1] == "[key]"
    if kind == "extra_forbidden":
        key = loc[-1]
        hint = _suggest(key, _allowed_keys(loc[:-1]))
        return source.diag(
            loc,
            f"unknown key `{key}` in {'.'.join(map(str, loc[:-1])) or 'the top level'}",
            hint,
            key=True,
        )
    if kind == "missing":
        return source.diag(
            loc[:-1],
            f"missing required key `{loc[-1]}` in {'.'.join(map(str, loc[:-1]))}",
            f"add `{loc[-1]}:`",
        )
    message = err["msg"].removeprefix("Value error, ")
    value = err.get("input")
    shown = (
        f" (got {value!r})"
        if isinstance(value, str | int | float) and len(repr(value)) < 60
        else ""
    )
    return source.diag(loc, f"{where}: {message}{shown}", _hint_for(kind), key=on_key)


def _hint_for(kind: str) -> str:
    return {
        "string_pattern_mismatch": "names use letters, digits, `_` and `-`, starting with a letter",
        "literal_error": "use one of the listed values",
        "greater_than_equal": "raise the value into the allowed range",
        "less_than_equal": "lower the value into the allowed range",
    }.get(kind, "see docs/storyboard.md")


def _allowed_keys(loc: Loc) -> list[str]:
    model: type[BaseModel] | None = Storyboard
    for part in loc:
        if model is None:
            return []
        field = model.model_fields.get(str(part))
        if field is None:  # a name inside a mapping (shots.NAME) or an index
            continue
        model = _model_of(field.annotation)
    return list(model.model_fields) if model else []


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


def _dedupe(diags: list[Diagnostic], locs: list[Loc]) -> list[Diagnostic]:
    seen: set[Loc] = set()
    out = []
    for d, loc in zip(diags, locs, strict=True):  # a union fails once per member: keep the first
        if loc not in seen:
            seen.add(loc)
            out.append(d)
    return sorted(out, key=lambda d: (d.line, d.column))
