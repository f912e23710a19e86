"""What a server, a lock file or an asset's name chose never reaches the wrong place: downloads
only from media hosts, the key only to fal, no echoed key in any file or line, any file name
uploads."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from grokreel import open_project
from grokreel.cache.journal import Journal
from grokreel.errors import BackendError


class Elsewhere:
    """A loopback server that is not a media host; it records every request it gets."""

    def __init__(self) -> None:
        self.hits: list[tuple[str, dict[str, str]]] = []
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                hits.append((self.path, dict(self.headers)))
                self.send_response(200)
                self.send_header("Content-Length", "5")
                self.end_headers()
                self.wfile.write(b"stolen")

            def log_message(self, *args: object) -> None:
                """Silent."""

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def elsewhere() -> Iterator[Elsewhere]:
    server = Elsewhere()
    yield server
    server.stop()


@pytest.mark.parametrize("how", ["result URL", "redirect"])
async def test_a_video_off_the_media_hosts_is_refused_and_the_request_kept(
    backend, fal_env, tmp_path, lake, elsewhere, how
):
    """A result pointing (or redirecting) at another host is never fetched; the paid request
    stays journaled for when the user trusts that host."""
    if how == "redirect":
        fal_env.faults.redirect_downloads = elsewhere.url
    else:
        fal_env.faults.video_host = elsewhere.url
    with pytest.raises(BackendError, match="refused to download from http://127.0.0.1") as info:
        await backend.render(lake, tmp_path, lambda said: None)
    assert "GROKREEL_MEDIA_HOSTS" in str(info.value) and "stays journaled" in str(info.value)
    assert elsewhere.hits == [] and len(Journal(tmp_path).entries()) == 1


async def test_the_key_is_never_sent_to_a_media_host(
    fal_env, monkeypatch, tmp_path, lake, elsewhere
):
    """A trusted media host gets the download request, without the key."""
    from grokreel.backends.fal import FalBackend

    monkeypatch.setenv("GROKREEL_MEDIA_HOSTS", f"{fal_env.url},{elsewhere.url}")
    fal_env.faults.video_host = elsewhere.url
    backend = FalBackend.from_env(tmp_path)
    with pytest.raises(BackendError, match="bytes, fal said"):
        await backend.render(lake, tmp_path, lambda said: None)
    await backend.aclose()
    assert len(elsewhere.hits) >= 1
    assert all("Authorization" not in headers for _, headers in elsewhere.hits)


BOARD = """
    defaults: {resolution: 480p, duration: 1}
    shots:
      a: {prompt: a lake at dawn}
    cut: [a]
"""


def test_a_lock_url_off_the_media_hosts_is_refused(write_board, fal_env, elsewhere):
    """A lock file whose source_url points at another host: nothing is fetched from it, and
    --locked refuses with no paid call."""
    board = write_board(BOARD)
    assert open_project(board, backend="fal").build().ok
    lock = board.with_suffix(".lock")
    data = json.loads(lock.read_text())
    data["nodes"]["a"]["source_url"] = f"{elsewhere.url}/take.mp4"
    lock.write_text(json.dumps(data))
    shutil.rmtree(board.parent / ".grokreel")
    result = open_project(board, backend="fal").build(locked=True, keep_going=True)
    assert not result.ok and elsewhere.hits == [] and len(fal_env.submissions) == 1
    assert any("refused to download" in w for w in result.warnings)


def test_a_server_echoing_the_key_leaks_it_nowhere(write_board, fal, board_dir):
    """Status logs and result fields that echo the key are scrubbed before they are printed
    or stored: the key is in no output line and no file the build wrote."""
    fal.faults.echo_key = True
    board = write_board(BOARD)
    env = os.environ | fal.env() | {"GROKREEL_FAL_POLL_INTERVAL": "0.02"}
    fal.faults.run_seconds = 0.3  # so the running log lines are seen and printed
    build = subprocess.run(
        [sys.executable, "-m", "grokreel", "build", str(board), "--backend", "fal", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert build.returncode == 0, build.stderr
    assert fal.key not in build.stdout + build.stderr
    files = [p for p in board_dir.rglob("*") if p.is_file()]
    leaked = [p for p in files if fal.key.encode() in p.read_bytes()]
    assert leaked == [] and any("journal" in str(p) for p in files)


JAPANESE = """
    defaults: {resolution: 480p, duration: 1}
    assets: {lamp: assets/ランプ.png, forest: assets/森.png}
    shots:
      light: {image: lamp, prompt: the lamp flickers}
      both: {references: [lamp, forest], prompt: "@lamp in @forest"}
      later: {image: {shot: light, frame: last}, prompt: the flame grows}
    cut: [light, both, later]
"""


def test_assets_with_japanese_names_render_and_upload_typed_by_their_bytes(
    write_board, board_dir, build_fal, fal_env
):
    """Non-ASCII asset names upload (ASCII names in the header), and every upload — assets and
    a grabbed frame from the cache — carries the content type its bytes say."""
    shutil.copy(board_dir / "assets" / "knight.png", board_dir / "assets" / "ランプ.png")
    shutil.copy(board_dir / "assets" / "forest.png", board_dir / "assets" / "森.png")
    result = build_fal(write_board(JAPANESE))
    assert result.ok, [o.error for o in result.outcomes.values() if o.error]
    uploads = fal_env.uploads
    assert len(uploads) == 3  # two assets and the frame grabbed from `light`
    assert {u["content_type"] for u in uploads} == {"image/png"}
    assert all(u["name"].isascii() and u["name"].endswith(".png") for u in uploads)


def test_a_plain_ascii_asset_keeps_its_name(write_board, build_fal, fal_env):
    """An ordinary asset name is what fal's CDN sees (useful in its dashboard)."""
    board = write_board(
        """
        defaults: {resolution: 480p, duration: 1}
        assets: {knight: assets/knight.png}
        shots: {a: {image: knight, prompt: walk}}
        cut: [a]
        """
    )
    assert build_fal(board).ok
    assert [u["name"] for u in fal_env.uploads] == ["knight.png"]


@pytest.mark.parametrize(
    "asset",
    ["/etc/passwd", "../outside/secret.txt", "assets/notes.png"],
    ids=["absolute", "parent", "text named png"],
)
def test_an_untrusted_asset_fails_before_any_call(write_board, board_dir, fal_env, asset):
    """An asset outside the project, or a non-image used as an image, is a located storyboard
    error on the fal backend too, and the server sees no call at all (nothing uploaded)."""
    from grokreel.errors import StoryboardError

    (board_dir.parent / "outside").mkdir(exist_ok=True)
    (board_dir.parent / "outside" / "secret.txt").write_text("credentials")
    (board_dir / "assets" / "notes.png").write_text("not an image")
    board = write_board(
        f"""
        defaults: {{resolution: 480p, duration: 1}}
        assets: {{thing: "{asset}"}}
        shots: {{a: {{image: thing, prompt: walk}}}}
        cut: [a]
        """
    )
    with pytest.raises(StoryboardError) as info:
        open_project(board, backend="fal").build()
    assert f"{board}:2:" in str(info.value)
    assert fal_env.calls == [] and fal_env.uploads == []
