"""Edit looks follow the edit prompt's words, checked on decoded frames of real animatic edits."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from grokreel.media import animatic

W, H = 320, 180


def decode(path: Path, index: int = 6) -> np.ndarray:
    """Frame ``index`` of ``path`` as RGB, without the time code and the EDIT banner."""
    with av.open(str(path)) as container:
        for k, frame in enumerate(container.decode(video=0)):
            if k == index:
                return frame.to_ndarray(format="rgb24").astype(float)[H // 5 : H * 3 // 4]
    raise AssertionError(f"{path} has no frame {index}")


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A colourful, detailed image shot: gradients in every channel under a checkerboard."""
    folder = tmp_path_factory.mktemp("looks")
    y, x = np.mgrid[0:360, 0:640]
    pattern = np.stack([x * 255 // 640, y * 255 // 360, ((x // 16 + y // 16) % 2) * 200 + 30], -1)
    Image.fromarray(pattern.astype(np.uint8)).save(folder / "pattern.png")
    dest = folder / "source.mp4"
    animatic.render_image(
        dest, prompt="p", image=folder / "pattern.png", width=W, height=H, duration=0.5, seed="s"
    )
    return dest


@pytest.fixture(scope="module")
def edit(source: Path, tmp_path_factory: pytest.TempPathFactory):
    """``edit(prompt)``: the decoded middle of the animatic's edit of ``source`` by ``prompt``."""
    folder = tmp_path_factory.mktemp("edits")

    def run(prompt: str, seed: str = "take") -> np.ndarray:
        dest = folder / f"{len(list(folder.iterdir()))}.mp4"
        animatic.render_edit(
            dest, prompt=prompt, source=source, width=W, height=H, max_duration=8.0, seed=seed
        )
        return decode(dest)

    return run


def saturation(picture: np.ndarray) -> float:
    return float((picture.max(axis=2) - picture.min(axis=2)).mean())


def detail(picture: np.ndarray) -> float:
    """Mean absolute difference of neighbouring pixels: the picture's high-frequency energy."""
    grey = picture.mean(axis=2)
    return float(np.abs(np.diff(grey, axis=0)).mean() + np.abs(np.diff(grey, axis=1)).mean())


@pytest.mark.parametrize(
    "word, rgb",
    [
        ("red", (255, 0, 0)),
        ("green", (0, 128, 0)),
        ("blue", (0, 0, 255)),
        ("orange", (255, 165, 0)),
    ],
)
def test_colour_word_grades_toward_that_colour(word, rgb, source, edit):
    """ "grade it <colour>": the mean colour moves toward the colour, away from the others."""
    before, after = decode(source).mean(axis=(0, 1)), edit(f"grade it {word}").mean(axis=(0, 1))
    target = np.array(rgb, float) - np.mean(rgb)  # the colour's direction, brightness aside
    moved = (after - after.mean()) - (before - before.mean())
    assert moved @ target / np.linalg.norm(target) > 20


@pytest.mark.parametrize("prompt", ["make it black and white", "monochrome", "B&W please"])
def test_black_and_white_has_no_colour(prompt, source, edit):
    """Black and white: the decoded frame has (almost) no saturation left."""
    assert saturation(decode(source)) > 60
    assert saturation(edit(prompt)) < 4


def test_sepia_is_brown_and_nearly_one_hue(edit):
    """Sepia: red over green over blue everywhere on average, and little saturation spread."""
    r, g, b = edit("an old sepia photograph").mean(axis=(0, 1))
    assert r > g + 10 and g > b + 10


def test_night_is_darker_and_blue(source, edit):
    """Night: much darker than the source, with blue over red."""
    before, after = decode(source), edit("day for night")
    assert after.mean() < 0.7 * before.mean()
    r, _, b = after.mean(axis=(0, 1))
    assert b > r + 5


def test_warm_and_cold_move_opposite_ways(source, edit):
    """Warm raises red against blue; cold does the reverse."""
    balance = [
        p.mean(axis=(0, 1)) @ [1, 0, -1] for p in (decode(source), edit("warm"), edit("cold"))
    ]
    assert balance[1] > balance[0] + 15 and balance[2] < balance[0] - 15


def test_blur_lowers_detail(source, edit):
    """Blur: the checkerboard's edges soften, so neighbour differences drop by more than half."""
    assert detail(edit("blur the background")) < 0.5 * detail(decode(source))


def test_words_combine(source, edit):
    """ "black and white, blurred": no colour and less detail at once."""
    picture = edit("black and white, blurry")
    assert saturation(picture) < 4 and detail(picture) < 0.5 * detail(decode(source))


def test_unknown_words_get_a_gentle_seeded_look(source, edit):
    """No known word: a visible but gentle change, different per seed, same for the same seed."""
    before = decode(source)
    one, two, again = edit("zhuzh it", "a"), edit("zhuzh it", "b"), edit("zhuzh it", "a")
    change = np.abs(one - before).mean()
    assert 3 < change < 40
    assert np.abs(one - two).mean() > 2 and np.abs(one - again).max() == 0
