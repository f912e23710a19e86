"""Text in any script, on real decoded frames: glyphs where boxes would be, Arabic shaped, RTL."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from PIL import features

from grokreel import fonts
from grokreel.cut import Card, ClipSpec, FilmFormat, Overlay, normalize_clip
from grokreel.cut.text import overlay_image
from grokreel.media import animatic

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


def prompt_card(tmp_path: Path, prompt: str) -> np.ndarray:
    """The middle of the animatic's prompt card for ``prompt`` (inside its border), decoded."""
    dest = tmp_path / f"draft{len(list(tmp_path.glob('draft*')))}.mp4"
    animatic.render_text(dest, prompt=prompt, width=640, height=360, duration=0.2, seed="s")
    return first_frame(dest)[150:210, 200:440]


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
