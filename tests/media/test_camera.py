"""Camera moves over images keep the whole picture in frame; chained shots drop the old overlays."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image, ImageDraw

from grokreel.media import animatic

W, H = 320, 180
MARKERS = {"top": (0, 220, 0), "left": (230, 0, 230), "right": (0, 200, 230), "low": (240, 200, 0)}
RED = (220, 30, 30)


def decode(path: Path) -> list[np.ndarray]:
    """Every video frame of ``path`` as RGB, through PyAV's decoder."""
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24").astype(int) for f in container.decode(video=0)]


def seen(frame: np.ndarray, rgb: tuple[int, int, int]) -> int:
    """How many pixels of ``frame`` are close to ``rgb``."""
    return int((np.abs(frame - rgb).max(axis=2) < 40).sum())


@pytest.fixture(scope="module")
def marked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A portrait picture with a marker 8% inside each edge (the low one above the caption)."""
    path = tmp_path_factory.mktemp("camera") / "marked.png"
    picture = Image.new("RGB", (300, 500), (120, 120, 120))
    draw = ImageDraw.Draw(picture)
    for name, (x, y) in {"top": (150, 40), "left": (24, 250), "right": (276, 250)}.items():
        draw.rectangle((x - 15, y - 25, x + 15, y + 25), fill=MARKERS[name])
    draw.rectangle((135, 350, 165, 400), fill=MARKERS["low"])
    picture.save(path)
    return path


@pytest.mark.parametrize("seed", ["a", "b", "c", "d", "e", "f"])
def test_image_move_keeps_the_whole_picture_in_frame(seed: str, marked: Path, tmp_path: Path):
    """Whatever the seeded move, every frame shows all four markers near the picture's edges."""
    dest = tmp_path / "shot.mp4"
    animatic.render_image(
        dest, prompt="p", image=marked, width=W, height=H, duration=1.0, seed=seed
    )
    frames = decode(dest)
    for k in (0, len(frames) // 2, len(frames) - 1):
        assert all(seen(frames[k], rgb) > 30 for rgb in MARKERS.values()), (seed, k)


def test_image_move_still_moves(marked: Path, tmp_path: Path):
    """The bounded move is still a move: first and last frames differ."""
    dest = tmp_path / "shot.mp4"
    animatic.render_image(dest, prompt="p", image=marked, width=W, height=H, duration=1.0, seed="a")
    frames = decode(dest)
    assert np.abs(frames[0] - frames[-1]).mean() > 2


@pytest.fixture(scope="module")
def red(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A solid red clip without overlays, and an animatic shot of red (time code, caption)."""
    folder = tmp_path_factory.mktemp("red")
    Image.new("RGB", (W, H), RED).save(folder / "red.png")
    animatic.render_image(
        folder / "shot.mp4",
        prompt="a wall",
        image=folder / "red.png",
        width=W,
        height=H,
        duration=0.5,
        seed="s",
    )
    with av.open(str(folder / "plain.mp4"), "w") as out:
        stream = out.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        for _ in range(12):
            picture = av.VideoFrame.from_image(Image.open(folder / "red.png"))
            out.mux(stream.encode(picture))
        out.mux(stream.encode(None))
    return {"png": folder / "red.png", "shot": folder / "shot.mp4", "plain": folder / "plain.mp4"}


def not_red(frames: list[np.ndarray]) -> list[int]:
    """Per frame, how many pixels are not the red of the source: the overlays drawn on it."""
    return [frame.size // 3 - seen(frame, RED) for frame in frames]


@pytest.mark.parametrize("seed", ["a", "b", "c", "d"])
def test_chained_extend_shows_no_old_overlays(seed: str, red: dict[str, Path], tmp_path: Path):
    """Extending an animatic shot adds only the new overlays: as many marks as extending a clip
    that had none (the source's enlarged time code and caption would add more)."""
    for name, chained in (("shot", True), ("plain", False)):
        animatic.render_extend(
            tmp_path / f"{name}.mp4",
            prompt="on",
            source=red[name],
            duration=0.5,
            seed=seed,
            chained=chained,
        )
    shot, plain = (not_red(decode(tmp_path / f"{n}.mp4")[12:]) for n in ("shot", "plain"))
    assert all(a <= 1.03 * b + 40 for a, b in zip(shot, plain, strict=True)), (shot, plain)


def test_chained_frame_shows_no_old_overlays(red: dict[str, Path], tmp_path: Path):
    """An image shot from the last frame of an animatic shot shows only its own overlays, as
    one from a clean picture does."""
    last = tmp_path / "last.png"
    Image.fromarray(decode(red["shot"])[-1].astype(np.uint8)).save(last)
    for name, image, chained in (("chained", last, True), ("clean", red["png"], False)):
        animatic.render_image(
            tmp_path / f"{name}.mp4",
            prompt="next",
            image=image,
            width=W,
            height=H,
            duration=0.5,
            seed="s",
            chained=chained,
        )
    chained, clean = (not_red(decode(tmp_path / f"{n}.mp4")) for n in ("chained", "clean"))
    assert all(a <= 1.03 * b + 40 for a, b in zip(chained, clean, strict=True)), (chained, clean)


def test_build_links_a_frame_without_its_overlays(cli, write_board, board_dir: Path):
    """Through a real offline build: a shot from the last frame of another shows no more marks
    than that shot itself (the backend tells the renderer the frame came from an animatic)."""
    Image.new("RGB", (854, 480), RED).save(board_dir / "red.png")
    path = write_board(
        """
        defaults: {resolution: 480p, duration: 1}
        assets: {wall: red.png}
        shots:
          a: {image: wall, prompt: "one"}
          b: {image: {shot: a, frame: last}, prompt: "two"}
        cut: [a, b]
        output: {resolution: 480p}
        """
    )
    result = cli("build", path, "--no-review", "--cache-dir", board_dir / "cache")
    assert result.exit_code == 0, result.output
    frames = decode(board_dir / "film.mp4")
    first, second = not_red(frames[:24]), not_red(frames[24:])
    assert max(second) <= max(first) + 200, (first, second)  # the old time code adds ~1000
