"""Validation collects: a mistake in one part does not hide the independent ones elsewhere."""

from __future__ import annotations


def test_shape_error_does_not_hide_names_or_timing(board_errors):
    """A bad resolution, an unknown shot in the cut and a trim past the end: all three reported."""
    diags = board_errors("""
        defaults: {resolution: 1080p}
        shots:
          a: {prompt: hi, duration: 4}
        cut: [a, nope, {shot: a, in: 9}]
    """)
    messages = " | ".join(d.message for d in diags)
    assert "`defaults.resolution` should be '480p' or '720p'" in messages
    assert "unknown shot `nope`" in messages
    assert "`in: 9` is past the end of shot `a`" in messages
    assert len(diags) == 3


TEN_MISTAKES = """
    defaults: {resolution: 1080p}
    assets:
      ghost: assets/ghost.png
      k: assets/knight.png
    shots:
      a: {prompt: hi, duration: true}
      b: {prompt: "{{ villain }}"}
      c: {image: {shot: zz}, prompt: x}
      d: {references: [k], prompt: "@k and @dragon"}
      e: {kind: extend, video: k, prompt: more}
      f: {prompt: x, take: 0}
      g: {prompt: x, aspect_ratio: 5:4}
    cut: [a, b, d, e, f, g]
    prices: {image_input: cheap}
"""


def test_ten_independent_mistakes_get_ten_located_messages(board_errors):
    """Ten unrelated mistakes in one file come back together, one message each, in file order."""
    diags = board_errors(TEN_MISTAKES)
    errors = [d for d in diags if d.severity == "error"]
    assert len(errors) == 10, "\n".join(map(str, errors))
    assert all(d.line >= 1 and d.column >= 1 for d in errors)
    assert [(d.line, d.column) for d in errors] == sorted((d.line, d.column) for d in errors)
    assert len({d.line for d in errors}) == 10


def test_a_set_aside_shot_is_not_unknown_later(board_errors):
    """A shot whose definition is broken is reported once, not again as unknown where used."""
    diags = board_errors("""
        shots:
          a: {image: {}, prompt: hi}
          b: {kind: edit, video: a, prompt: x}
        cut: [a, b]
    """)
    assert len(diags) == 1
    assert "`shots.a.image`" in diags[0].message
