"""`grokreel schema`: the JSON Schema of the storyboard language, for editors.

It is generated from the pydantic models that validate a storyboard (``spec/model.py``), so the
two cannot drift; the few things those models check in code rather than in types are added here
from the same sources: the string shorthands their ``_from_string`` validators accept, the
``"1.5s"`` form of a frame, and each endpoint's duration range and defaults from ``api.py``.
The shipped copy (``grokreel/reference/storyboard.schema.json``) is this output; a test keeps it so.
"""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

from pydantic import BaseModel

from . import api
from .spec import model

__all__ = ["SCHEMA_FILE", "dumps", "shipped", "storyboard_schema"]

SCHEMA_FILE = "reference/storyboard.schema.json"
DIALECT = "https://json-schema.org/draft/2020-12/schema"
_SECONDS_TEXT = r"^\s*[0-9]+(\.[0-9]+)?\s*s?\s*$"


def storyboard_schema() -> dict[str, Any]:
    """The storyboard's JSON Schema (draft 2020-12), with descriptions, enums, ranges, defaults."""
    schema = model.Storyboard.model_json_schema()
    defs = schema["$defs"]
    _field_docs(schema, defs)
    for name, cls in _models():
        if name in defs and hasattr(cls, "_from_string"):
            defs[name] = _with_shorthand(defs[name], cls)
    _frame_text(defs)
    _shot_ranges(defs["Shot"]["properties"])
    return {"$schema": DIALECT, **schema}


def dumps() -> str:
    """The schema as the text ``grokreel schema`` prints and the package ships."""
    return json.dumps(storyboard_schema(), indent=2, ensure_ascii=False) + "\n"


def shipped() -> str:
    """The copy inside the installed package (for an editor setting that points at a file)."""
    return files("grokreel").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")


def _field_docs(schema: dict[str, Any], defs: dict[str, Any]) -> None:
    """Each field's docstring (the string under it in spec/model.py) as its description. Read
    here, not by pydantic at import (``use_attribute_docstrings``): that cost every command 30 ms
    to serve only this one."""
    docs = _attribute_docstrings()
    for name, cls in _models():
        definition = schema if cls is model.Storyboard else defs.get(name)
        if definition is None:
            continue
        for field_name, info in cls.model_fields.items():
            doc = docs.get(name, {}).get(field_name)
            prop = definition.get("properties", {}).get(info.alias or field_name)
            if doc and prop is not None and "description" not in prop and "$ref" not in prop:
                _describe(prop, doc)


def _describe(prop: dict[str, Any], doc: str) -> None:
    """Add the description in pydantic's own order: a schema's keywords sorted by name."""
    items = sorted([*prop.items(), ("description", doc)])
    prop.clear()
    prop.update(items)


def _attribute_docstrings() -> dict[str, dict[str, str]]:
    """class name → field name → the docstring written under the field, cleaned like pydantic."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(model))
    found: dict[str, dict[str, str]] = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        body = node.body
        for field, after in zip(body, body[1:], strict=False):
            if (
                isinstance(field, ast.AnnAssign)
                and isinstance(field.target, ast.Name)
                and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
            ):
                doc = inspect.cleandoc(after.value.value)
                found.setdefault(node.name, {})[field.target.id] = doc
    return found


def _models() -> list[tuple[str, type[BaseModel]]]:
    return [
        (name, cls)
        for name in model.__all__
        if isinstance(cls := getattr(model, name), type) and issubclass(cls, BaseModel)
    ]


def _with_shorthand(definition: dict[str, Any], cls: Any) -> dict[str, Any]:
    """A model its validator also accepts as one string (``crossfade`` for ``{type: crossfade}``):
    the string is checked as the key it stands for, which the validator itself tells."""
    (key,) = cls._from_string("x")
    field = definition["properties"][key]
    text = next((s for s in field.get("anyOf", [field]) if s.get("type") == "string"), field)
    text = {k: v for k, v in text.items() if k not in ("default", "title")}
    text["description"] = f"Shorthand for `{key}`: {field.get('description', '')}"
    shape = {k: v for k, v in definition.items() if k not in ("title", "description")}
    keep = {k: definition[k] for k in ("title", "description") if k in definition}
    return {**keep, "anyOf": [text, shape]}


def _frame_text(defs: dict[str, Any]) -> None:
    """A frame may also be written as seconds in a string: ``"1.5s"``."""
    media = defs["MediaRef"]["anyOf"][1] if "anyOf" in defs["MediaRef"] else defs["MediaRef"]
    frame = media["properties"]["frame"]
    frame["anyOf"].insert(1, {"type": "string", "pattern": _SECONDS_TEXT})


def _shot_ranges(props: dict[str, Any]) -> None:
    """The API contract's ranges and defaults per endpoint, on the shot keys that feed them."""
    durations = {
        name: cls.model_json_schema()["properties"]["duration"]
        for name, cls in api.ENDPOINTS.items()
        if "duration" in cls.model_fields
    }
    low = min(d["minimum"] for d in durations.values())
    high = max(d["maximum"] for d in durations.values())
    per = "; ".join(
        f"{name} {d['minimum']}-{d['maximum']} (default {d['default']})"
        for name, d in durations.items()
    )
    props["duration"]["anyOf"][0] |= {"minimum": low, "maximum": high}
    props["duration"]["description"] += f" By endpoint: {per}."
    for key in ("resolution", "aspect_ratio"):
        defaults = {
            name: cls.model_fields[key].default
            for name, cls in api.ENDPOINTS.items()
            if key in cls.model_fields
        }
        listed = "; ".join(f"{name} {value}" for name, value in defaults.items())
        props[key]["description"] += f" API defaults: {listed}."
