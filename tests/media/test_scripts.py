"""Text in any script, on real decoded frames: glyphs where boxes would be, Arabic shaped, RTL."""

from __future__ import annotations

import shutil
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import features

from grokreel import fonts, open_project
from grokreel.cache.store import sha256_file
from grokreel.cut import Card, ClipSpec, FilmFormat, Overlay, normalize_clip
from grokreel.cut.text import overlay_image
from grokreel.job import film_size
from grokreel.media import animatic
from grokreel.media.drawing import caption, clear_band

JA = ("夜明けの騎士", "霧の中の城門")  # same length, different glyphs
BOXES = ("\U000f0001\U000f0002\U000f0003", "\U000f0004\U000f0005\U000f0006")  # no font has these
needs_ja = pytest.mark.skipif(
    bool(fonts.missing("".join(JA))), reason="no installed font covers Japanese (fonts-noto-cjk)"
)
needs_ar = pytest.mark.skipif(
    bool(fonts.missing("مرحبا")) or not features.check("raqm"),
    reason="no installed Arabic font (fonts-noto-core) or Pillow without raqm",
)
no_box_font = pytest.mark.skipif(
    not fonts.missing("".join(BOXES)), reason="an installed font covers plane-15 private use"
)


def first_frame(path: Path) -> np.ndarray:
    """The first picture of ``path`` as RGB, through PyAV's decoder."""
    with av.open(str(path)) as container:
        return next(container.decode(video=0)).to_ndarray(format="rgb24").astype(int)


def title_card(tmp_path: Path, text: str) -> np.ndarray:
    """A title card of ``text`` made by the cut's normalize step, decoded."""
    dest = tmp_path / f"card{len(list(tmp_path.glob('card*')))}.mp4"
    spec = ClipSpec(FilmFormat(640, 360, 24), overlays=(Overlay(text),), card=Card(0.5, "navy"))
    normalize_clip(None, dest, spec, tmp_path)
    return first_frame(dest)


def prompt_card(tmp_path: Path, prompt: str, font: Path | None = None) -> np.ndarray:
    """The middle of the animatic's prompt card for ``prompt`` (inside its border), decoded."""
    dest = tmp_path / f"draft{len(list(tmp_path.glob('draft*')))}.mp4"
    animatic.render_text(
        dest, prompt=prompt, width=640, height=360, duration=0.2, seed="s", font=font
    )
    return first_frame(dest)[150:210, 200:440]


def other_japanese_font() -> Path:
    """An installed font with Japanese (its first face) other than the one the fallback chain
    draws Japanese in: what a storyboard's `output.font` could name."""
    default = fonts.runs(JA[0], fonts.chain())[0][0]
    for face in fonts.system_faces():
        drawn = all(fonts.covers(face, char) for char in "".join(JA))
        if face.path != default.path and face.index == 0 and drawn:
            return Path(face.path)
    pytest.skip("no second installed font covers Japanese (fonts-noto-cjk has several)")


def ink_columns(picture: np.ndarray) -> np.ndarray:
    """Which columns of a transparent text image have any ink."""
    return np.flatnonzero(picture[..., 3].max(axis=0) > 128)


@needs_ja
def test_japanese_titles_draw_their_own_glyphs(tmp_path: Path):
    """Two Japanese titles of one length differ on the decoded card (boxes would be identical)."""
    one, two = (title_card(tmp_path, text) for text in JA)
    assert np.abs(one - two)[120:240].max() > 100
    assert (one[120:240] > 200).all(axis=2).sum() > 500  # white strokes, not a hairline box


@no_box_font
def test_boxes_look_alike_which_the_glyph_tests_rely_on(tmp_path: Path):
    """Characters no font has are drawn as identical boxes: what the tests above tell apart."""
    one, two = (title_card(tmp_path, text) for text in BOXES)
    assert np.abs(one - two).max() < 4


@needs_ja
def test_animatic_prompt_card_draws_japanese(tmp_path: Path):
    """The draft's prompt card shows the prompt's glyphs: two prompts differ inside the card."""
    one, two = (prompt_card(tmp_path, text) for text in JA)
    assert np.abs(one - two).max() > 100


@needs_ja
def test_animatic_prompt_card_draws_in_the_given_font(tmp_path: Path):
    """A Japanese prompt card drawn with a storyboard's font differs from the default chain's."""
    default, own = (prompt_card(tmp_path, JA[0], font) for font in (None, other_japanese_font()))
    assert np.abs(default - own).max() > 100
    assert (own > 200).all(axis=2).sum() > 100  # glyphs in that font, not an empty card


@needs_ja
def test_caption_in_the_given_font_keeps_below_the_clear_band():
    """A two-line caption in a taller font still starts below the rows a chained shot reuses,
    when the band is worked out for the same font."""
    font, text = other_japanese_font(), "".join(JA) * 6
    for width, height in ((320, 180), (854, 480)):
        (_, _, top), (_, bottom) = (
            caption(text, width, height, font),
            clear_band(width, height, font),
        )
        assert top >= bottom, (width, height)


@needs_ja
def test_build_draws_a_japanese_prompt_in_the_storyboards_font(cli, write_board, board_dir: Path):
    """Through a real offline build with `output.font`: the cached draft is byte for byte the
    prompt card drawn in that font (with the build's seed), not the default chain's."""
    shutil.copy(other_japanese_font(), board_dir / "own.ttc")
    board = write_board(f"""
        output: {{font: own.ttc}}
        defaults: {{resolution: 480p, aspect_ratio: "16:9", duration: 1}}
        shots:
          a: {{prompt: {JA[0]}}}
    """)
    assert cli("build", board, "--backend", "animatic").exit_code == 0
    (shot,) = [s for s in open_project(board, backend="animatic").status() if s.job.id == "a"]
    width, height = film_size("480p", "16:9")
    drawn = {}
    for name, font in (("own", board_dir / "own.ttc"), ("default", None)):
        dest = board_dir / f"{name}.mp4"
        animatic.render_text(
            dest, prompt=JA[0], width=width, height=height, duration=1, seed=shot.key, font=font
        )
        drawn[name] = sha256_file(dest)
    assert shot.output == drawn["own"] != drawn["default"]


@needs_ar
def test_arabic_runs_right_to_left():
    """In "اب" the alef (first, and tall) is drawn right of the beh."""
    picture = np.asarray(overlay_image("اب", "title", 640, 360, "white"))
    ink = picture[..., 3] > 128
    rows = np.flatnonzero(ink.any(axis=1))
    top_row = ink[rows[0] : rows[0] + 3].any(axis=0)
    cols = ink_columns(picture)
    assert np.flatnonzero(top_row).mean() > (cols[0] + cols[-1]) / 2


@needs_ar
def test_arabic_letters_join():
    """Four joined behs are far narrower than four isolated ones (the shaper picked their forms)."""
    one = ink_columns(np.asarray(overlay_image("ب", "title", 640, 360, "white")))
    four = ink_columns(np.asarray(overlay_image("بببب", "title", 640, 360, "white")))
    assert four[-1] - four[0] < 0.8 * 4 * (one[-1] - one[0])


@needs_ja
def test_runs_switch_font_only_where_needed():
    """Latin stays in Pillow's font; Japanese goes to a font that has it, spaces stay with it."""
    parts = fonts.runs("The 騎士 rides", fonts.chain())
    assert parts[0] == (fonts.BUNDLED, "The ")
    assert parts[1][0] != fonts.BUNDLED and parts[1][1].startswith("騎士")


@no_box_font
def test_missing_names_only_what_no_font_draws():
    """`missing` lists the uncovered characters once each, and none of the covered ones."""
    assert fonts.missing("ok \U000f0001 and \U000f0001 \U000f0002") == "\U000f0001\U000f0002"
    assert fonts.missing("plain ascii") == ""


def test_own_font_leads_the_chain(tmp_path: Path):
    """A storyboard's font draws Latin text too, so the title differs from Pillow's font."""
    dejavu = next((f.path for f in fonts.system_faces() if f.path.endswith("DejaVuSans.ttf")), "")
    if not dejavu:
        pytest.skip("DejaVu Sans is not installed (fonts-dejavu-core)")
    plain = np.asarray(overlay_image("Chapter", "title", 640, 360, "white"))
    own = np.asarray(overlay_image("Chapter", "title", 640, 360, "white", dejavu))
    assert np.abs(plain.astype(int) - own).max() > 100
