"""Every class of storyboard error is reported with the right line and column, all at once."""

from __future__ import annotations

import pytest

from grokreel.errors import StoryboardError


def where(diags, fragment):
    """(line, column) of the first diagnostic whose message holds ``fragment``."""
    for d in diags:
        if fragment in d.message:
            return d.line, d.column
    raise AssertionError(f"no diagnostic with {fragment!r} in {[str(d) for d in diags]}")


def test_yaml_syntax_error_is_located(board_errors):
    """A YAML syntax error names its line and column instead of raising a traceback."""
    diags = board_errors("""
        shots:
          a:
            prompt: [unclosed
          b: {prompt: x}
    """)
    assert diags[0].message.startswith("YAML syntax error")
    assert diags[0].line == 4


def test_unknown_key_points_at_the_key_with_a_suggestion(board_errors):
    """A misspelt key is reported at the key itself with a did-you-mean hint."""
    diags = board_errors("""
        shots:
          a:
            prompt: hello
            duraton: 5
    """)
    assert where(diags, "unknown key `duraton`") == (4, 5)
    assert "duration" in diags[0].hint


def test_bad_values_are_all_reported_at_once(board_errors):
    """Out-of-range and non-enum values are each reported at their value's position."""
    diags = board_errors("""
        defaults:
          resolution: 1080p
        shots:
          a:
            prompt: hello
            aspect_ratio: 5:4
    """)
    assert where(diags, "defaults.resolution") == (2, 15)
    assert where(diags, "aspect_ratio") == (6, 19)
    assert len([d for d in diags if d.severity == "error"]) == 2


def test_duration_out_of_range_for_endpoint(board_errors):
    """Ranges are per endpoint: 12 s is fine for text but not for reference-to-video (≤ 10 s)."""
    diags = board_errors("""
        assets:
          knight: assets/knight.png
        shots:
          ok:
            prompt: hello
            duration: 12
          refs:
            references: [knight]
            prompt: "@knight rides"
            duration: 12
    """)
    assert where(diags, "reference-to-video `duration`") == (10, 15)
    assert len(diags) == 1


def test_duration_from_defaults_is_blamed_on_the_shot(board_errors):
    """A default that breaks one endpoint's range names the shot and says it came from defaults."""
    diags = board_errors("""
        defaults:
          duration: 12
        assets:
          knight: assets/knight.png
        shots:
          refs:
            references: [knight]
            prompt: "@knight rides"
    """)
    assert "from `defaults`" in diags[0].message
    assert (diags[0].line, diags[0].column) == (7, 5)


def test_unknown_shot_and_asset_names(board_errors):
    """Unknown shot or asset names are errors at the place that names them, with a suggestion."""
    diags = board_errors("""
        assets:
          knight: assets/knight.png
        shots:
          a:
            prompt: hello
          b:
            image: {shot: aa}
            prompt: next
          c:
            references: [knigt]
            prompt: "@knigt"
        cut: [a, zz]
    """)
    assert where(diags, "unknown shot `aa`") == (7, 12)
    assert where(diags, "unknown asset `knigt`") == (10, 18)
    assert where(diags, "unknown shot `zz`") == (12, 10)


def test_unknown_reference_mention(board_errors):
    """A prompt that mentions @name not in the shot's references is an error on the prompt."""
    diags = board_errors("""
        assets:
          knight: assets/knight.png
        shots:
          a:
            references: [knight]
            prompt: "@knight meets @dragon"
    """)
    assert where(diags, "@dragon") == (6, 13)


def test_cycle_is_named(board_errors):
    """A cycle of shots is reported once, naming every shot on it."""
    diags = board_errors("""
        shots:
          a:
            image: {shot: c}
            prompt: one
          b:
            image: {shot: a}
            prompt: two
          c:
            kind: extend
            video: b
            prompt: three
    """)
    [cycle] = [d for d in diags if "cycle" in d.message]
    assert cycle.message.endswith("cycle: a → b → c → a")
    assert (cycle.line, cycle.column) == (2, 3)


def test_missing_local_file(board_errors):
    """A local asset or image path that does not exist is reported at its value."""
    diags = board_errors("""
        assets:
          ghost: assets/ghost.png
        shots:
          a:
            image: assets/nowhere.png
            prompt: hi
    """)
    assert where(diags, "asset `ghost`: file not found") == (2, 10)
    assert where(diags, "file not found: assets/nowhere.png") == (5, 12)


def test_undefined_template_variable(board_errors):
    """Jinja2 prompts run with undefined variables as errors, located at the prompt."""
    diags = board_errors("""
        vars: {hero: knight}
        shots:
          a:
            prompt: "{{ hero }} meets {{ villain }}"
    """)
    assert where(diags, "'villain' is undefined") == (4, 13)


def test_sandbox_blocks_unsafe_templates(board_errors):
    """The template sandbox refuses attribute access that could escape it."""
    diags = board_errors("""
        shots:
          a:
            prompt: "{{ ''.__class__.__mro__ }}"
    """)
    assert "not allowed" in diags[0].message


def test_prompt_too_long(board_errors):
    """A prompt over 4096 characters after templating is rejected before anything is paid."""
    diags = board_errors("""
        vars: {word: "{{ 'x' * 5000 }}"}
        shots:
          a:
            prompt: "{{ 'abc' * 2000 }}"
    """)
    assert "4096" in diags[0].message


@pytest.mark.parametrize(
    ("source_duration", "ok"),
    [(1, False), (2, True), (15, True)],
)
def test_extend_source_length_through_chain(board_errors, compile_board, source_duration, ok):
    """An extend source must be 2–15 s, known through the upstream shot's duration."""
    text = f"""
        shots:
          a:
            prompt: hi
            duration: {source_duration}
          b:
            kind: extend
            video: a
            prompt: more
    """
    if ok:
        assert compile_board(text).job("b").duration == source_duration + 6
    else:
        diags = board_errors(text)
        assert where(diags, "extend-video needs a source of 2–15 s") == (7, 12)


def test_extend_of_extend_exceeds_fifteen_seconds(board_errors):
    """Lengths propagate through chains: 10 s + 6 s extension = 16 s, too long to extend again."""
    diags = board_errors("""
        shots:
          a: {prompt: hi, duration: 10}
          b: {kind: extend, video: a, prompt: more}
          c: {kind: extend, video: b, prompt: even more}
    """)
    assert "this one is 16 s" in diags[0].message


def test_edit_of_long_source_warns(compile_board):
    """An edit source over 8 s compiles with a warning: the API truncates it."""
    plan = compile_board("""
        shots:
          a: {prompt: hi, duration: 12}
          b: {kind: edit, video: a, prompt: sepia}
    """)
    assert any("keeps only the first 8 s" in w.message for w in plan.warnings)
    assert plan.job("b").duration == 8


def test_keys_that_do_not_fit_the_kind(board_errors):
    """Parameters an endpoint does not take are errors, and `video` without a kind asks for one."""
    diags = board_errors("""
        shots:
          a: {prompt: hi}
          b: {kind: edit, video: a, prompt: x, duration: 4}
          c: {video: a, prompt: y}
    """)
    assert where(diags, "edit-video takes no `duration`") == (3, 40)
    assert "kind: edit" in [d for d in diags if "`video`" in d.message][0].hint


def test_too_many_references(board_errors):
    """reference-to-video takes at most 7 images."""
    diags = board_errors("""
        assets: {k: assets/knight.png}
        shots:
          a:
            references: [k, k, k, k, k, k, k, k]
            prompt: "@k"
    """)
    assert "reference_image_urls" in diags[0].message


def test_error_output_format(write_board):
    """The rendered message is FILE:LINE:COL: message, then a hint line, then a count."""
    from grokreel.plan import compile_file

    path = write_board("shots:\n  a:\n    promt: x\n")
    with pytest.raises(StoryboardError) as info:
        compile_file(path)
    lines = str(info.value).splitlines()
    assert f"{path}:3:5: unknown key `promt` in shots.a" in lines
    assert "    hint: did you mean `prompt`?" in lines
    assert lines[-1] == f"2 error(s) in {path}"


def test_empty_cut(board_errors):
    """An empty `cut:` is refused at compile time, before any shot is rendered."""
    diags = board_errors("""
        shots:
          a: {prompt: hi}
        cut: []
    """)
    assert where(diags, "the cut has no clips") == (3, 6)
