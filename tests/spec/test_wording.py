"""Messages are plain sentences about the author's file, with the forms that are accepted."""

from __future__ import annotations

import pytest

PYDANTIC_WORDS = ("instance of", "Input should", "Dictionary should", "Value error")


def test_frame_in_seconds_is_accepted_in_both_documented_forms(compile_board):
    """`frame: 1.5` and `frame: "1.5s"` both grab the frame at 1.5 s."""
    for frame in ("1.5", '"1.5s"'):
        plan = compile_board(f"""
            shots:
              a: {{prompt: hi}}
              b: {{image: {{shot: a, frame: {frame}}}, prompt: x}}
        """)
        assert "a@1.5s" in plan.graph


def test_bad_frame_names_every_accepted_form(board_errors):
    """A bad `frame` is told first, last or seconds, not only 'first' or 'last'."""
    diags = board_errors("""
        shots:
          a: {prompt: hi}
          b: {image: {shot: a, frame: soon}, prompt: x}
    """)
    assert "`first`, `last`, or seconds" in diags[0].message
    assert (diags[0].line, diags[0].column) == (3, 31)


@pytest.mark.parametrize(
    "text",
    [
        "shots:\n  a: 3\n",
        "shots: {}\n",
        "shots:\n  a: {prompt: hi}\ncut: [{shot: a, in: 2, out: 1}]\n",
        "assets: {k: 3}\nshots:\n  a: {prompt: hi}\n",
        "shots:\n  a: {prompt: hi, duration: x}\n",
    ],
)
def test_no_pydantic_wording_leaks(board_errors, text):
    """Shape errors read as sentences; no 'instance of Shot' or 'Input should be'."""
    diags = board_errors(text)
    assert diags
    for d in diags:
        assert not any(word in d.message for word in PYDANTIC_WORDS), d.message


def test_sandbox_violation_is_not_told_to_define_a_variable(board_errors):
    """Escaping the template sandbox gets a sandbox hint, not 'define it under vars:'."""
    diags = board_errors("shots:\n  a: {prompt: \"{{ ''.__class__ }}\"}\n")
    assert "not allowed" in diags[0].message
    assert "vars" not in diags[0].hint


def test_image_as_extend_source_gets_one_message(board_errors):
    """An image asset used as an extend source: one message, no 0 s length, no 'a image'."""
    diags = board_errors("""
        assets: {k: assets/knight.png}
        shots:
          e: {kind: extend, video: k, prompt: more}
    """)
    assert [d.message for d in diags] == ["asset `k` is an image, not a video"]


@pytest.mark.parametrize("value", ["true", "false", "4.5", '"4"'])
def test_duration_must_be_a_whole_number(board_errors, value):
    """`duration: true` is not 1 s: booleans, fractions and text are refused, located."""
    diags = board_errors(f"shots:\n  a: {{prompt: hi, duration: {value}}}\n")
    assert "`shots.a.duration` should be a whole number" in diags[0].message
    assert (diags[0].line, diags[0].column) == (2, 29)


@pytest.mark.parametrize("key", ["in: true", "volume: true"])
def test_booleans_are_not_seconds(board_errors, key):
    """A boolean where seconds are expected is refused rather than read as 1."""
    text = "shots:\n  a: {prompt: hi}\n"
    text += (
        f"cut: [{{shot: a, {key}}}]\n"
        if key.startswith("in")
        else f"music: {{path: m.mp3, {key}}}\n"
    )
    diags = board_errors(text)
    assert any("should be a number" in d.message for d in diags)


def test_huge_take_is_a_located_error(board_errors):
    """`take:` with 4,000 digits is refused at its value, never a crash in the key's JSON."""
    diags = board_errors("shots:\n  a: {prompt: hi, take: " + "9" * 4000 + "}\n")
    assert "`shots.a.take` should be at most 9999" in diags[0].message
    assert (diags[0].line, diags[0].column) == (2, 25)


def test_hints_do_not_point_at_docs_folder(board_errors):
    """Hints name `grokreel help`, which an installed package has, not docs/storyboard.md."""
    diags = board_errors("shots:\n  a: {prompt: hi, duration: x}\n")
    assert "grokreel help" in diags[0].hint
    assert "docs/" not in diags[0].hint


def test_api_range_errors_are_sentences(board_errors):
    """An endpoint's limits read as sentences: at most 7 references, at most 4096 characters."""
    diags = board_errors("""
        assets: {k: assets/knight.png}
        shots:
          a: {references: [k, k, k, k, k, k, k, k], prompt: "@k"}
          b: {prompt: "{{ 'x' * 5000 }}"}
    """)
    assert [d.message for d in diags] == [
        "reference-to-video `reference_image_urls` should have at most 7 item(s)",
        "text-to-video `prompt` should be at most 4096 characters long",
    ]
