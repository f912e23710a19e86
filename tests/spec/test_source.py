"""YAML parsing keeps positions and reads values the way a film author means them."""

from __future__ import annotations

from pathlib import Path

from grokreel.spec.source import parse_yaml


def test_positions_of_values_and_keys():
    """Every value and key gets its 1-based line and column."""
    source, problems = parse_yaml("a: 1\nb:\n  c: [x, y]\n", Path("f.yaml"))
    assert not problems
    assert source.values[("b", "c", 1)] == (3, 10)
    assert source.keys[("b", "c")] == (3, 3)
    assert source.where(("b", "c", 7)) == (3, 6)  # falls back to the nearest located ancestor


def test_aspect_ratio_and_yes_no_words_stay_strings():
    """`16:9` is not the base-60 integer 969 and `on` is not True (YAML 1.1 pitfalls)."""
    source, _ = parse_yaml("ratio: 16:9\nprompt: on\nflag: true\n", Path("f.yaml"))
    assert source.data == {"ratio": "16:9", "prompt": "on", "flag": True}


def test_duplicate_keys_are_errors():
    """A key written twice is an error at the second one, not a silent overwrite."""
    _, problems = parse_yaml("a: 1\nb: 2\na: 3\n", Path("f.yaml"))
    assert [(p.line, p.column) for p in problems] == [(3, 1)]
    assert "duplicate key `a`" in problems[0].message


def test_empty_file():
    """An empty storyboard says what to write."""
    _, problems = parse_yaml("", Path("f.yaml"))
    assert "empty" in problems[0].message
