"""The timeline's arithmetic: placement on the frame grid, what is copied or re-encoded, cues."""

from __future__ import annotations

from pathlib import Path

import pytest

from grokreel.cut.timeline import (
    Bridge,
    Copy,
    CutClip,
    Timeline,
    Transition,
    Window,
    film_duration,
    srt_time,
)
from grokreel.errors import MediaError

CUT, XFADE, FADE = Transition(), Transition("crossfade", 0.5), Transition("fade", 0.5)


def clip(name: str, transition: Transition = CUT, **kw: object) -> CutClip:
    return CutClip(Path(f"{name}.mp4"), transition, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("durations", "transitions", "expected"),
    [
        ([1.0, 2.0, 3.0], [CUT, CUT, CUT], 6.0),
        ([1.0, 2.0, 3.0], [XFADE, XFADE, CUT], 5.5),
        ([2.0, 2.0], [CUT, Transition("crossfade", 1.25)], 2.75),
        ([4.0], [Transition("crossfade", 3.0)], 4.0),
        ([1.0, 1.0], [CUT, FADE], 2.0),
    ],
)
def test_film_duration_subtracts_only_crossfades(durations, transitions, expected):
    """Clips add up; a crossfade overlaps them, a fade and the first transition do not."""
    assert film_duration(durations, transitions) == pytest.approx(expected)


def test_hard_cuts_copy_every_frame():
    """Hard cuts place clips end to end and copy all of them: nothing is re-encoded."""
    t = Timeline([clip("a"), clip("b")], [24, 48], 24)
    assert [(p.start, p.end) for p in t.placed] == [(0, 24), (24, 72)]
    assert t.pieces({}) == [Copy(0, 0, 24), Copy(1, 0, 48)]


def test_crossfade_window_then_bridge_to_the_next_keyframe():
    """A crossfade re-encodes its overlap, then plain frames up to the clip's next keyframe."""
    t = Timeline([clip("a"), clip("b", XFADE)], [48, 72], 24)
    assert t.total == 48 + 72 - 12
    pieces = t.pieces({1: [0, 20, 48]})
    assert pieces[0] == Copy(0, 0, 36)
    assert isinstance(pieces[1], Window) and pieces[1].frames == 12
    assert [(layer.clip, layer.first, layer.count) for layer in pieces[1].layers] == [
        (0, 36, 12),
        (1, 0, 12),
    ]
    assert pieces[2:] == [Bridge(1, 12, 8), Copy(1, 20, 52)]


def test_fades_darken_their_own_clip_without_overlap():
    """A fade into the first clip fades in; between clips it dips, half on each side."""
    t = Timeline([clip("a", FADE), clip("b", FADE), clip("c", fade_out=1.0)], [48, 48, 48], 24)
    assert t.total == 144
    heads = [(p.head, p.head_kind, p.tail, p.tail_kind) for p in t.placed]
    assert heads == [(12, "fade", 6, "fade"), (6, "fade", 0, "none"), (0, "none", 24, "fade")]
    assert sum(getattr(p, "count", getattr(p, "frames", 0)) for p in t.pieces({})) == 144


def test_cues_split_crossfades_in_the_middle():
    """Each caption covers its clip; at a crossfade the cue changes halfway through."""
    t = Timeline(
        [clip("a", caption="one"), clip("b", XFADE, caption="two"), clip("c")], [48, 48, 24], 24
    )
    assert t.cues() == [(0.0, 1.75, "one"), (1.75, 3.5, "two")]
    assert t.srt().splitlines()[:3] == ["1", "00:00:00,000 --> 00:00:01,750", "one"]


@pytest.mark.parametrize(("seconds", "text"), [(0, "00:00:00,000"), (3723.4567, "01:02:03,457")])
def test_srt_time_format(seconds: float, text: str):
    """SubRip times are HH:MM:SS,mmm."""
    assert srt_time(seconds) == text


@pytest.mark.parametrize(
    ("clips", "frames", "message"),
    [
        ([clip("a"), clip("b", Transition("crossfade", 1.2))], [48, 24], r"longer than b\.mp4"),
        (
            [
                clip("a"),
                clip("b", Transition("crossfade", 0.6)),
                clip("c", Transition("crossfade", 0.6)),
            ],
            [48, 24, 48],
            r"b\.mp4 lasts 1\.000 s, too short",
        ),
        ([clip("a", fade_out=0.5), clip("b", XFADE)], [48, 48], "keep one of the two"),
        ([clip("a"), clip("b", Transition("crossfade", 0))], [48, 48], "needs a duration"),
        ([], [], "no clips"),
    ],
)
def test_impossible_edits_are_refused(clips: list[CutClip], frames: list[int], message: str):
    """Transitions longer than their clips, or contradicting each other, are MediaErrors."""
    with pytest.raises(MediaError, match=message):
        Timeline(clips, frames, 24)
