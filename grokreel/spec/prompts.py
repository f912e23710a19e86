"""Prompt templates: Jinja2 in a sandbox, undefined variables are errors, `@name` → `@ImageN`."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jinja2.sandbox import ImmutableSandboxedEnvironment

__all__ = ["PromptError", "compile_references", "render_prompt"]

_MENTION = re.compile(r"(?<![\w@.])@([A-Za-z_][A-Za-z0-9_-]*)")
_API_IMAGE = re.compile(r"^Image\d+$")
_UNDEFINED = "define it under `vars:` (top level or in the shot)"
_SANDBOX = "templates may use variables, filters and loops, not Python attributes or methods"
_SYNTAX = "check the template's `{{ … }}` and `{% … %}` pairs; see `grokreel help shots`"


class PromptError(ValueError):
    """A prompt could not be rendered; the message and its hint are for the author."""

    def __init__(self, message: str, hint: str):
        super().__init__(message)
        self.hint = hint


@lru_cache(maxsize=1)
def _environment() -> ImmutableSandboxedEnvironment:
    """Jinja2's sandbox, imported only for a prompt that has template syntax."""
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    return ImmutableSandboxedEnvironment(
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False
    )


def render_prompt(template: str, variables: Mapping[str, Any]) -> str:
    """Render ``template``; a syntax error or an undefined name raises PromptError."""
    if "{" not in template:
        return template.strip()
    import jinja2

    try:
        return _environment().from_string(template).render(**variables).strip()
    except jinja2.exceptions.SecurityError as exc:
        raise PromptError(f"prompt template not allowed: {exc}", _SANDBOX) from None
    except jinja2.UndefinedError as exc:  # the sandbox answers an unsafe attribute with one
        if "unsafe" in str(exc.message):
            raise PromptError(f"prompt template not allowed: {exc.message}", _SANDBOX) from None
        raise PromptError(f"prompt template: {exc.message}", _UNDEFINED) from None
    except jinja2.TemplateSyntaxError as exc:
        raise PromptError(f"prompt template syntax error: {exc.message}", _SYNTAX) from None
    except Exception as exc:  # a filter or expression failing inside the template
        raise PromptError(f"prompt template failed: {exc}", _SYNTAX) from None


def compile_references(prompt: str, names: Sequence[str]) -> tuple[str, list[str]]:
    """Replace `@name` with the API's `@ImageN` (1-based, list order).

    Returns the compiled prompt and the mentions that name no reference (the caller reports them).
    `@Image3` written directly is left as it is.
    """
    index = {name: i for i, name in enumerate(names, start=1)}
    unknown: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in index:
            return f"@Image{index[name]}"
        if not _API_IMAGE.match(name):
            unknown.append(name)
        return match.group(0)

    return _MENTION.sub(replace, prompt), unknown
