"""The animatic renderer, checked on real files with the real decoder (PyAV) and probe."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from grokreel.errors import MediaError
from grokreel.media import animatic
from grokreel.media.probe import probe

W, H = 320, 180
RED, BLUE = (220, 30, 30), (30, 30, 220)


# ---------------------------------------------------------------- helpers and fixtures


def decode(path: Path) -> list[np.ndarray]:
    """Every video frame of ``path`` as RGB, via PyAV's decoder."""
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def sound(path: Path) -> np.ndarray:
    """The audio of ``path`` as 48 kHz stereo float, shape (2, samples)."""
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=48_000)
    with av.open(str(path)) as container:
        chunks = [
            f.to_ndarray() for fr in container.decode(audio=0) for f in resampler.resample(fr)
        ]
    return np.concatenate(chunks + [f.to_ndarray() for f in resampler.resample(None)], axis=1)


def diff(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two images, 0..255."""
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def middle(frame: np.ndarray) -> np.ndarray:
    """The frame without the time code (top) and caption strip (bottom)."""
    h = frame.shape[0]
    return frame[h // 5 : h * 3 // 4]


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Test pictures: solid red and blue (odd sizes, other aspects) and a textured pattern."""
    folder = tmp_path_factory.mktemp("images")
    y, x = np.mgrid[0:400, 0:600]
    pattern = np.stack([x * 255 // 600, y * 255 // 400, ((x // 40 + y // 40) % 2) * 255], -1)
    pictures = {
        "red": Image.new("RGB", (301, 499), RED),
        "blue": Image.new("RGB", (500, 300), BLUE),
        "pattern": Image.fromarray(pattern.astype(np.uint8)),
    }
    paths = {name: folder / f"{name}.png" for name in pictures}
    for name, picture in pictures.items():
        picture.save(paths[name])
    (folder / "broken.png").write_text("not an image")
    return paths | {"broken": folder / "broken.png"}


@pytest.fixture(scope="module")
def render(
    tmp_path_factory: pytest.TempPathFactory, images: dict[str, Path]
) -> Callable[..., Path]:
    """Render one kind into a fresh file: ``render(kind, **overrides) -> path``."""
    folder = tmp_path_factory.mktemp("clips")
    counter = iter(range(10**6))
    base = {"prompt": "a red kite over green hills", "seed": "take-1"}
    defaults: dict[str, dict[str, object]] = {
        "text": base | {"width": W, "height": H, "duration": 1.0},
        "image": base | {"image": images["pattern"], "width": W, "height": H, "duration": 1.0},
        "references": base
        | {"images": [images["red"], images["blue"]], "width": W, "height": H, "duration": 1.0},
        "edit": base | {"width": W, "height": H, "max_duration": 8.0},
        "extend": base | {"duration": 1.0},
    }

    def run(kind: str, **overrides: object) -> Path:
        dest = folder / f"{kind}-{next(counter)}.mp4"
        args = defaults[kind] | overrides
        if kind in ("edit", "extend") and "source" not in args:
            args["source"] = run("image", duration=1.5)
        getattr(animatic, f"render_{kind}")(dest, **args)
        return dest

    return run


@pytest.fixture(scope="module")
def silent_30fps(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1.5 s, 30 fps, 320x240 clip with no audio track, each frame a different grey."""
    path = tmp_path_factory.mktemp("silent") / "silent.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=30, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for i in range(45):
            frame = av.VideoFrame.from_ndarray(np.full((240, 320, 3), i * 5, np.uint8), "rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 30)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


# ---------------------------------------------------------------- every kind


KINDS = ["text", "image", "references", "edit", "extend"]


@pytest.mark.parametrize("kind", KINDS)
def test_kind_is_h264_aac_cfr_with_exact_frames(kind: str, render: Callable[..., Path]) -> None:
    """Each kind writes H.264/yuv420p + AAC 48 kHz stereo, 24 fps, exact frames, A/V in step."""
    path = render(kind)
    info = probe(path)
    frames = {"edit": 36, "extend": 36 + 24}.get(kind, 24)
    assert (info.video_codec, info.pix_fmt, info.audio_codec) == ("h264", "yuv420p", "aac")
    assert (info.width, info.height, info.fps) == (W, H, 24.0)
    assert (info.audio_rate, info.audio_channels) == (48_000, 2)
    assert info.num_frames == frames == len(decode(path))
    assert abs(info.video_duration - frames / 24) < 1e-6
    assert abs(info.audio_duration - info.video_duration) < 0.05
    assert not path.with_suffix(".partial.mp4").exists()


@pytest.mark.parametrize("kind", KINDS)
def test_same_arguments_give_identical_bytes(kind: str, render: Callable[..., Path]) -> None:
    """Rendering twice with the same arguments gives byte-identical files."""
    source = render("text") if kind in ("edit", "extend") else None
    extra = {"source": source} if source else {}
    assert render(kind, **extra).read_bytes() == render(kind, **extra).read_bytes()


@pytest.mark.parametrize("change", [{"prompt": "a blue boat"}, {"seed": "take-2"}])
def test_prompt_or_seed_changes_the_file(
    change: dict[str, str], render: Callable[..., Path]
) -> None:
    """A different prompt or seed gives a different file."""
    assert render("text").read_bytes() != render("text", **change).read_bytes()


def test_file_is_tagged_bt709_without_creation_time(render: Callable[..., Path]) -> None:
    """The video is tagged BT.709 and the container carries no creation time."""
    with av.open(str(render("text"))) as container:
        ctx = container.streams.video[0].codec_context
        assert (ctx.colorspace, ctx.color_primaries, ctx.color_trc) == (1, 1, 1)
        assert "creation_time" not in container.metadata
        assert "creation_time" not in container.streams.video[0].metadata


def test_generated_audio_is_a_tone_not_silence(render: Callable[..., Path]) -> None:
    """Generated shots carry an audible tone."""
    audio = sound(render("text"))
    assert 0.02 < float(np.sqrt((audio**2).mean())) < 0.5


def test_hd_text_shot_has_api_shape(render: Callable[..., Path]) -> None:
    """A 6 s 1280x720 text shot has 144 frames (its speed is measured in bench/animatic.py)."""
    info = probe(render("text", width=1280, height=720, duration=6.0))
    assert (info.num_frames, info.width, info.height) == (144, 1280, 720)


# ---------------------------------------------------------------- pictures


def test_text_card_stays_while_background_moves(render: Callable[..., Path]) -> None:
    """The prompt card holds still in the middle while the background pans around it."""
    frames = decode(render("text", duration=2.0))
    first, last = frames[0], frames[-1]
    centre = (slice(H * 2 // 5, H * 3 // 5), slice(W * 2 // 5, W * 3 // 5))
    assert diff(first[centre], last[centre]) < 3
    assert diff(first[H * 4 // 5 :], last[H * 4 // 5 :]) > 10


def test_image_shot_moves_over_time(render: Callable[..., Path]) -> None:
    """An image shot's frames change over time (camera motion)."""
    frames = decode(render("image", duration=2.0))
    assert diff(middle(frames[0]), middle(frames[-1])) > 10
    changed = [diff(middle(a), middle(b)) > 0 for a, b in zip(frames, frames[1:], strict=False)]
    assert sum(changed) > len(changed) * 0.6


def test_image_shot_shows_the_image(render: Callable[..., Path], images: dict[str, Path]) -> None:
    """A solid red input image gives red frames."""
    frame = decode(render("image", image=images["red"]))[12]
    r, g, b = middle(frame).reshape(-1, 3).mean(axis=0)
    assert r > 180 and g < 70 and b < 70


def test_references_show_every_image(render: Callable[..., Path]) -> None:
    """A references shot shows the red and the blue image at once."""
    pixels = middle(decode(render("references"))[12]).reshape(-1, 3).astype(int)

    def share(colour: tuple[int, int, int]) -> float:
        return float((np.abs(pixels - colour).max(axis=1) < 40).mean())

    assert share(RED) > 0.05 and share(BLUE) > 0.05


# ---------------------------------------------------------------- edit and extend


def test_edit_transforms_scales_and_truncates(render: Callable[..., Path]) -> None:
    """An edit is cut to max_duration, scaled to the asked size and visibly transformed."""
    source = render("image", duration=1.5, width=640, height=360)
    path = render("edit", source=source, max_duration=1.0)
    info = probe(path)
    assert (info.num_frames, info.width, info.height) == (24, W, H)
    before = np.asarray(Image.fromarray(decode(source)[10]).resize((W, H)))
    assert diff(middle(before), middle(decode(path)[10])) > 25


@pytest.mark.parametrize("seed", ["a", "b", "c", "d"])
def test_every_edit_look_is_visible(seed: str, render: Callable[..., Path]) -> None:
    """Whatever the seed, the edit (graded by its prompt's colour words) differs from its source."""
    source = render("image", duration=0.5)
    edited = decode(render("edit", source=source, seed=seed))
    assert diff(middle(decode(source)[6]), middle(edited[6])) > 20


def test_edit_keeps_source_audio(render: Callable[..., Path]) -> None:
    """An edit of a clip with audio keeps that audio."""
    source = render("text", duration=1.0, prompt="a different prompt, so a different tone")
    kept, original = sound(render("edit", source=source)), sound(source)
    n = 36_000
    assert np.corrcoef(kept[0, 2048:n], original[0, 2048:n])[0, 1] > 0.9


def test_edit_of_silent_30fps_source(render: Callable[..., Path], silent_30fps: Path) -> None:
    """A 30 fps source without audio becomes 24 fps with a generated tone, cropped to fit."""
    path = render("edit", source=silent_30fps)
    info = probe(path)
    assert (info.num_frames, info.width, info.height, info.audio_codec) == (36, W, H, "aac")
    assert float(np.abs(sound(path)).max()) > 0.05


def test_extend_appends_to_whole_source(render: Callable[..., Path]) -> None:
    """Extend = the source then `duration` more, its first new frame continuing the last one."""
    source = render("image", duration=1.5)
    path = render("extend", source=source, duration=1.0)
    assert probe(path).video_duration == pytest.approx(2.5)
    ours, theirs = decode(path), decode(source)
    assert diff(middle(ours[10]), middle(theirs[10])) < 4
    assert diff(middle(ours[36]), middle(theirs[-1])) < 4
    assert diff(middle(ours[36]), middle(ours[-1])) > 5


def test_extend_audio_is_continuous(render: Callable[..., Path]) -> None:
    """Extend's audio is the source's then a tone, with no silent gap at the join."""
    source = render("text", duration=1.0)
    audio = sound(render("extend", source=source, duration=1.0))
    windows = audio[0, 2400 : 2400 + 56 * 1600].reshape(56, 1600)
    assert float(np.sqrt((windows**2).mean(axis=1)).min()) > 0.01


def test_extend_of_silent_30fps_source(render: Callable[..., Path], silent_30fps: Path) -> None:
    """Extending a silent 30 fps clip keeps its size, resamples to 24 fps and adds a tone."""
    info = probe(render("extend", source=silent_30fps, duration=0.5))
    assert (info.width, info.height, info.fps, info.num_frames) == (320, 240, 24.0, 36 + 12)
    assert abs(info.audio_duration - info.video_duration) < 0.05


# ---------------------------------------------------------------- failures


@pytest.mark.parametrize("size", [(321, 180), (320, 181), (0, 180)])
def test_odd_or_empty_size_is_a_media_error(size: tuple[int, int], tmp_path: Path) -> None:
    """Odd or zero frame sizes are refused with MediaError before anything is written."""
    with pytest.raises(MediaError, match="even"):
        animatic.render_text(
            tmp_path / "x.mp4", prompt="p", width=size[0], height=size[1], duration=1, seed="s"
        )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["missing", "broken"])
def test_bad_image_is_a_media_error(name: str, tmp_path: Path, images: dict[str, Path]) -> None:
    """A missing or unreadable image is a MediaError naming the file; nothing is left behind."""
    image = images.get(name, tmp_path / "missing.png")
    with pytest.raises(MediaError, match=image.name):
        animatic.render_image(
            tmp_path / "x.mp4", prompt="p", image=image, width=W, height=H, duration=1, seed="s"
        )
    assert [p for p in tmp_path.iterdir() if p.suffix == ".mp4"] == []


def test_zero_duration_is_a_media_error(tmp_path: Path) -> None:
    """A duration shorter than one frame is refused."""
    with pytest.raises(MediaError, match="shorter than one frame"):
        animatic.render_text(
            tmp_path / "x.mp4", prompt="p", width=W, height=H, duration=0, seed="s"
        )


def test_failure_midway_removes_partial_and_keeps_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash while encoding raises MediaError, removes the partial file, keeps the old dest."""
    dest = tmp_path / "shot.mp4"
    dest.write_bytes(b"previous take")
    calls = iter(range(10**6))

    def explode(frame: np.ndarray, index: int, total: int) -> None:
        if next(calls) == 5:
            raise RuntimeError("disk on fire")

    monkeypatch.setattr(animatic, "stamp", explode)
    with pytest.raises(MediaError, match="disk on fire"):
        animatic.render_text(dest, prompt="p", width=W, height=H, duration=1, seed="s")
    assert dest.read_bytes() == b"previous take"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shot.mp4"]
