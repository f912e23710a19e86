"""`validate` names characters no font can draw; `output.font` leads titles and captions."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grokreel import fonts
from grokreel.errors import StoryboardError
from grokreel.keys import FileHashes, job_key
from grokreel.plan import compile_file

PUA = "\U000f0001"  # plane-15 private use: no font has it
no_box_font = pytest.mark.skipif(bool(not fonts.missing(PUA)), reason="a font covers U+F0001")


def board(title: str, prompt: str = "a knight", output: str = "{}") -> str:
    return f"""
    output: {output}
    shots:
      a: {{prompt: "{prompt}", duration: 1, caption: "cap"}}
    cut:
      - {{title: "{title}", duration: 1}}
      - a
    """


def keys(path: Path, backend: str = "animatic") -> dict[str, str]:
    """Every job's cache key, as a build on ``backend`` would compute it."""
    plan, hashes = compile_file(path), FileHashes()
    resolved: dict[str, str] = {}

    def content(ref: str) -> str:
        return f"sha256:{hashes(Path(ref[5:]))}" if ref.startswith("file:") else resolved[ref[4:]]

    for job in plan.jobs():
        resolved[job.id] = job_key(job, backend, content, "")
    return resolved


@no_box_font
def test_validate_warns_on_the_titles_line_naming_the_character(cli, write_board):
    """A title with an undrawable character: a warning on its line with the code point and fix."""
    path = write_board(board(f"Chapter {PUA}"))
    result = cli("validate", path)
    assert result.exit_code == 0, result.output
    assert "film.yaml:5:" in result.output and "warning" in result.output
    assert "U+F0001" in result.output and "`font:` under `output`" in result.output


@no_box_font
def test_prompt_warning_says_to_install_a_font(write_board):
    """An undrawable prompt is warned about on the prompt, with a font package to install."""
    plan = compile_file(write_board(board("Chapter", prompt=f"dawn {PUA}")))
    (warning,) = [d for d in plan.warnings if "U+F0001" in d.message]
    assert warning.severity == "warning" and warning.line == 3 and "fonts-noto" in warning.hint


def copy_dejavu(dest) -> None:
    """Copy DejaVu Sans to ``dest`` (a real font file to point `output.font` at), or skip."""
    dejavu = next((f.path for f in fonts.system_faces() if f.path.endswith("DejaVuSans.ttf")), "")
    if not dejavu:
        pytest.skip("DejaVu Sans is not installed (fonts-dejavu-core)")
    shutil.copy(dejavu, dest)


def test_drawable_text_is_not_warned_about(write_board):
    """ASCII (and, with Noto installed, Japanese) raises no font warning."""
    text = "夜明け" if not fonts.missing("夜明け") else "Dawn"
    plan = compile_file(write_board(board(text, prompt=text)))
    assert not [d for d in plan.warnings if "font" in d.message]


def test_font_is_in_the_keys_of_the_clips_it_draws_on_only(write_board, board_dir):
    """Setting `output.font` re-keys the title and captioned clips, and the animatic's draft of
    the shot (its prompt card is drawn in the font), never the paid shot on fal."""
    copy_dejavu(board_dir / "title.ttf")
    plain, own = board("Chapter"), board("Chapter", output="{font: title.ttf}")
    paid = [keys(write_board(text), "fal")["a"] for text in (plain, own)]
    assert paid[0] == paid[1]
    plain_keys, own_keys = keys(write_board(plain)), keys(write_board(own))
    assert plain_keys["a"] != own_keys["a"]
    assert plain_keys["cut:1:title"] != own_keys["cut:1:title"]
    assert plain_keys["cut:2:a"] != own_keys["cut:2:a"]


def test_font_that_is_not_a_font_file_is_an_error(write_board, board_dir):
    """`output.font` naming a text file is an error on that key."""
    (board_dir / "notes.txt").write_text("not a font")
    with pytest.raises(StoryboardError) as info:
        compile_file(write_board(board("Chapter", output="{font: notes.txt}")))
    (diag,) = info.value.diagnostics
    assert "not a font file" in diag.message and diag.line == 1


def test_fonts_path_in_grokreel_toml_is_used(write_board, board_dir):
    """`[fonts] path` in grokreel.toml sets the font when the storyboard does not."""
    copy_dejavu(board_dir / "title.ttf")
    plain = keys(write_board(board("Chapter")))
    (board_dir / "grokreel.toml").write_text('[fonts]\npath = "title.ttf"\n')
    assert keys(write_board(board("Chapter")))["cut:1:title"] != plain["cut:1:title"]
