"""The edit in the storyboard (cut items, titles, trims, music, captions) compiled into jobs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from grokreel.plan import Plan

BOARD = """
    defaults: {resolution: 480p, duration: 4}
    assets: {theme: music/theme.mp3}
    shots:
      dawn: {prompt: dawn, caption: "At dawn."}
      ride: {prompt: ride}
    cut:
      - {title: The Ride, duration: 2, background: "#102030"}
      - {shot: dawn, in: 0.5, out: 3, title: {text: Day one, duration: 1}}
      - {shot: ride, transition: {type: crossfade, duration: 1}, mute: true, fade_out: 1}
    music: {asset: theme, volume: 0.5, fade_out: 2, loop: true}
"""


@pytest.fixture
def board(write_board: Callable[..., Path], board_dir: Path) -> Callable[[str], Path]:
    (board_dir / "music").mkdir()
    (board_dir / "music" / "theme.mp3").write_bytes(b"ID3 not really music")
    return write_board


@pytest.fixture
def plan(board: Callable[[str], Path]) -> Plan:
    from grokreel.plan import compile_file

    return compile_file(board(BOARD))


def test_each_clip_is_a_normalize_job_the_cut_depends_on(plan: Plan):
    """One normalize job per cut item, named by position and shot; the cut needs only them."""
    ids = [job.id for job in plan.jobs() if job.kind == "normalize"]
    assert ids == ["cut:1:title", "cut:2:dawn", "cut:3:ride"]
    assert plan.job("cut").deps == tuple(ids)
    assert plan.job("cut:2:dawn").deps == ("dawn",)


def test_title_card_trim_and_title_go_to_the_normalize_request(plan: Plan):
    """A card is made from nothing; a trimmed, titled shot carries its trim and text."""
    card = plan.job("cut:1:title")
    assert (card.request["source"], card.request["card"], card.duration) == (
        None,
        {"duration": 2.0, "background": "#102030"},
        2.0,
    )
    dawn = plan.job("cut:2:dawn")
    assert dawn.request["trim"] == {"in": 0.5, "out": 3.0} and dawn.duration == 2.5
    assert [(o["text"], o["style"], o["start"], o["end"]) for o in dawn.request["overlays"]] == [
        ("Day one", "title", 0.0, 1.0),
        ("At dawn.", "caption", 0.0, None),
    ]


def test_join_only_edits_go_to_the_cut_request(plan: Plan):
    """Transitions, fades, muting, music and subtitles are the cut's: changing them re-joins."""
    cut = plan.job("cut")
    ride = cut.request["clips"][2]
    assert ride == {
        "ref": "job:cut:3:ride",
        "transition": {"type": "crossfade", "duration": 1.0},
        "fade_out": 1.0,
        "mute": True,
        "caption": None,
    }
    assert cut.request["clips"][1]["caption"] == "At dawn."
    music = cut.request["music"]
    assert music["ref"].endswith("music/theme.mp3") and music["ref"].startswith("file:")
    assert (music["volume"], music["fade_out"], music["loop"]) == (0.5, 2.0, True)
    assert cut.duration == pytest.approx(2 + 2.5 + 4 - 1)
    assert "file:" + str(Path(music["ref"][5:])) in plan.job("cut").refs


@pytest.mark.parametrize(
    ("mode", "burned", "srt"), [("srt", False, True), ("burn", True, False), ("none", False, False)]
)
def test_captions_mode(board: Callable[[str], Path], mode: str, burned: bool, srt: bool):
    """`output.captions` decides whether captions are burned in, written as .srt, both or none."""
    from grokreel.plan import compile_file

    plan = compile_file(board(BOARD + f"    output: {{captions: {mode}}}\n"))
    styles = [o["style"] for o in plan.job("cut:2:dawn").request["overlays"]]
    assert ("caption" in styles) is burned
    assert plan.job("cut").request["subtitles"] is srt


def test_transition_edit_keeps_every_normalize_request(board: Callable[[str], Path]):
    """A longer crossfade changes the cut's request only: no clip is normalized again."""
    from grokreel.plan import compile_file

    before = compile_file(board(BOARD))
    after = compile_file(board(BOARD.replace("duration: 1}, mute", "duration: 1.5}, mute")))
    for job in before.jobs():
        if job.kind == "normalize":
            assert after.job(job.id).request == job.request
    assert after.job("cut").request != before.job("cut").request


def test_default_cut_has_a_normalize_job_per_shot(compile_board: Callable[[str], Plan]):
    """Without `cut:`, every shot no edit consumes is a clip, each normalized."""
    plan = compile_board("""
        shots: {a: {prompt: a}, b: {prompt: b}, c: {kind: edit, video: a, prompt: c}}
    """)
    assert plan.job("cut").deps == ("cut:1:b", "cut:2:c")


@pytest.mark.parametrize(
    ("cut", "message"),
    [
        ("[{shot: dawn, in: 5}]", "`in: 5` is past the end of shot `dawn`"),
        ("[{shot: dawn, in: 2, out: 1}]", "`out` must come after `in`"),
        ("[{mute: true}]", "needs `shot` (a clip) or `title`"),
        ("[{shot: dawn, duration: 2}]", "belong to a title card"),
        ("[{title: x, mute: true}]", "apply to a shot"),
        ("[{shot: dawn, fade_out: 1}, {shot: ride, transition: crossfade}]", "also ends it"),
        ("[{shot: dusk}]", "unknown shot `dusk`"),
        ("[{shot: dawn, transition: wipe}]", "transition.type"),
    ],
)
def test_impossible_edits_are_storyboard_errors(board_errors, cut: str, message: str):
    """Edits that cannot be made are reported with the storyboard's line and column."""
    errors = board_errors(
        BOARD.split("    cut:")[0].replace("theme: music/theme.mp3", "") + f"    cut: {cut}\n"
    )
    assert any(message in d.message for d in errors), [d.message for d in errors]


@pytest.mark.parametrize(
    ("music", "message"),
    [
        ("{asset: knight}", "is an image, not an audio or a video"),
        ("{asset: nope}", "unknown asset `nope`"),
        ("{path: music/none.wav}", "file not found: music/none.wav"),
        ("{asset: theme, path: music/theme.mp3}", "exactly one of `asset` or `path`"),
    ],
)
def test_music_must_be_a_local_sound(
    board: Callable[[str], Path], board_errors, music: str, message: str
):
    """The music bed is an audio or video file on disk, named once."""
    text = BOARD.replace(
        "assets: {theme: music/theme.mp3}",
        "assets: {theme: music/theme.mp3, knight: assets/knight.png}",
    )
    errors = board_errors(text.split("    music:")[0] + f"    music: {music}\n")
    assert any(message in d.message for d in errors), [d.message for d in errors]


def test_crossfade_into_the_first_clip_is_a_warning(compile_board: Callable[[str], Plan]):
    """A crossfade needs a clip before it (a warning); a fade into the first clip fades in."""
    plan = compile_board("""
        shots: {a: {prompt: a}, b: {prompt: b}}
        cut: [{shot: a, transition: crossfade}, {shot: b, transition: fade}]
    """)
    assert [w.message for w in plan.warnings] == ["the first clip has nothing to crossfade from"]
    plan = compile_board("""
        shots: {a: {prompt: a}}
        cut: [{shot: a, transition: fade}]
    """)
    assert plan.warnings == []
    assert plan.job("cut").request["clips"][0]["transition"] == {"type": "fade", "duration": 0.5}
