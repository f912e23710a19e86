"""No YAML input raises, hangs or constructs objects: every refusal is located and fast."""

from __future__ import annotations

import time

import pytest

BOMB = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8)
)


@pytest.mark.parametrize(
    ("text", "message", "at"),
    [
        ("shots:\n  a: {prompt: !custom x}\n", "YAML tag `!custom`", (2, 15)),
        ("shots:\n  a: !!python/object:os.system {}\n", "`!!python/object:os.system`", (2, 6)),
        ("&x [*x]: 1\nshots: {a: {prompt: hi}}\n", "a key must be plain text", (1, 1)),
        ("shots:\n  a: {prompt: hi, vars: &x {y: *x}}\n", "alias refers to a value", (2, 25)),
        (BOMB + "shots: {a: {prompt: hi}}\n", "expands to more than", None),
        ('shots:\n  a:\n    prompt: "never closed\n  b: {prompt: x}\n', "quoted scalar", (3, 13)),
    ],
)
def test_yaml_refusals_are_located_and_fast(board_errors, text, message, at):
    """Tags, self-containing aliases, alias bombs and an open quote: one located message, < 1 s."""
    start = time.monotonic()
    diags = board_errors(text)
    assert time.monotonic() - start < 1.0
    found = [d for d in diags if message in d.message]
    assert found, [str(d) for d in diags]
    if at is not None:
        assert (found[0].line, found[0].column) == at


def test_a_refused_tag_is_reported_once(board_errors):
    """The value behind a refused tag is not reported again by the shape stage."""
    diags = board_errors("shots:\n  a: {prompt: !custom x}\n  b: {prompt: fine}\n")
    assert len(diags) == 1


def test_unclosed_quote_is_reported_where_it_opens(board_errors):
    """An unclosed quote points at the quote, never past the end of the file."""
    diags = board_errors('shots:\n  a:\n    prompt: "open\n')
    assert (diags[0].line, diags[0].column) == (3, 13)
