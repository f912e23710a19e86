"""A storyboard's files must lie inside its project and be, by their bytes, what their use needs."""

from __future__ import annotations

import os
import shutil

import pytest
from click.testing import CliRunner

from grokreel.cli import main
from grokreel.spec.files import sniff

MP4_HEAD = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"\x89PNG\r\n\x1a\n....", "image"),
        (b"\xff\xd8\xff\xe0..JFIF", "image"),
        (b"GIF89a....", "image"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image"),
        (MP4_HEAD, "video"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86", "video"),
        (b"ID3\x04\x00", "audio"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", "audio"),
        (b"just some text", None),
        (b"", None),
    ],
)
def test_sniff_by_magic_numbers(head, kind):
    """PNG, JPEG, GIF, WebP, MP4, Matroska, MP3 and WAV are known by their first bytes."""
    assert sniff(head) == kind


@pytest.mark.parametrize(
    "path",
    ["/etc/passwd", "../outside/secret.txt", "assets/link.png"],
)
def test_paths_outside_the_project_root_fail(write_board, board_dir, path):
    """An absolute path, a `..` path and a symlink leading out all fail validate, located."""
    outside = board_dir.parent / "outside"
    outside.mkdir(exist_ok=True)
    (outside / "secret.txt").write_text("key=123")
    (board_dir / "assets" / "link.png").symlink_to(outside / "secret.txt")
    board = write_board(f"assets:\n  x: {path}\nshots:\n  a: {{image: x, prompt: hi}}\n")
    result = CliRunner().invoke(main, ["validate", str(board)])
    assert result.exit_code == 1
    assert f"film.yaml:2:6: asset `x`: `{path}` is outside the project root" in result.output
    assert "Traceback" not in result.output


def test_inline_path_outside_the_root_fails(board_errors):
    """A path written directly in a shot's `image:` is held to the same root."""
    diags = board_errors("shots:\n  a: {image: {path: /etc/hostname}, prompt: hi}\n")
    assert "`/etc/hostname` is outside the project root" in diags[0].message


def test_roots_listed_in_grokreel_toml_are_allowed(board_dir, write_board, compile_board):
    """`[assets] roots` in grokreel.toml lets assets come from a shared folder."""
    project = board_dir / "film"
    shared = board_dir / "shared"
    shutil.copytree(board_dir / "assets", shared)
    project.mkdir()
    text = "assets: {k: ../shared/knight.png}\nshots:\n  a: {image: k, prompt: hi}\n"
    (project / "film.yaml").write_text(text)
    from grokreel.errors import StoryboardError
    from grokreel.plan import compile_file

    with pytest.raises(StoryboardError, match="outside the project root"):
        compile_file(project / "film.yaml")
    (project / "grokreel.toml").write_text('[assets]\nroots = ["../shared"]\n')
    assert compile_file(project / "film.yaml").job("a").request["image_url"].startswith("file:")


def test_a_text_file_named_png_is_not_an_image(board_dir, board_errors):
    """The bytes decide: a text file called x.png is a located error where an image is used."""
    (board_dir / "assets" / "x.png").write_text("not an image")
    diags = board_errors("assets: {x: assets/x.png}\nshots:\n  a: {image: x, prompt: hi}\n")
    assert "`assets/x.png` is not an image, video or sound file" in diags[0].message
    assert (diags[0].line, diags[0].column) == (1, 13)


def test_a_video_named_png_is_not_an_image(board_dir, board_errors):
    """An MP4 named .png, used as an image, is refused as a video."""
    (board_dir / "assets" / "clip.png").write_bytes(MP4_HEAD)
    diags = board_errors("shots:\n  a: {image: assets/clip.png, prompt: hi}\n")
    assert diags[0].message == "`assets/clip.png` is a video, not an image"


def test_declared_kind_must_match_the_bytes(board_errors):
    """`kind: video` on a PNG is an error at the asset."""
    diags = board_errors(
        "assets: {k: {path: assets/knight.png, kind: video}}\nshots:\n  a: {prompt: hi}\n"
    )
    assert "says `kind: video`, but its file is an image" in diags[0].message


def test_non_ascii_file_names_are_fine(board_dir, compile_board):
    """`assets/ランプ.png` is an ordinary asset."""
    shutil.copy(board_dir / "assets" / "knight.png", board_dir / "assets" / "ランプ.png")
    plan = compile_board(
        "assets: {lamp: assets/ランプ.png}\nshots:\n  a: {image: lamp, prompt: hi}\n"
    )
    assert plan.job("a").request["image_url"].endswith("ランプ.png")


def test_url_assets_warn_at_validate_and_refuse_offline(write_board):
    """A URL asset: validate warns (located); plan and build on animatic refuse before running."""
    board = write_board(
        'assets: {r: "https://example.com/x.png"}\nshots:\n  a: {image: r, prompt: hi}\n'
    )
    runner = CliRunner()
    checked = runner.invoke(main, ["validate", str(board)])
    assert checked.exit_code == 0
    assert "film.yaml:1:13: warning: asset `r` is a URL" in checked.output
    for command in (["plan"], ["build", "-n"], ["build"]):
        result = runner.invoke(main, [*command, str(board), "--backend", "animatic"])
        assert result.exit_code == 1, result.output
        assert "film.yaml:1:13: asset `r` is a URL" in result.output
    assert not (board.parent / ".grokreel").exists() or not any(
        (board.parent / ".grokreel").rglob("*.mp4")
    )
    assert os.environ.get("FAL_KEY") is None
