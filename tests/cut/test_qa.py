"""Clip QA: the warnings an editor wants after a render, each naming the shot."""

from __future__ import annotations

from pathlib import Path

import pytest

from grokreel.cut import ClipSpec, clip_qa, normalize_clip

from .conftest import FMT, make_clip


def test_a_good_clip_has_no_warnings(clips: dict[str, Path]):
    """A moving picture with sound, as long as asked: nothing to say."""
    assert clip_qa(clips["s2"], 2.0, "storm") == []


def test_length_differs_from_the_request(clips: dict[str, Path]):
    """A clip of another length than requested is reported with both lengths."""
    assert clip_qa(clips["s2"], 3.0, "storm") == [
        "shot `storm`: lasts 2.000 s where 3 s were asked for; the cut uses 2.000 s"
    ]


def test_black_silent_frozen_clip_gets_every_warning(clips: dict[str, Path]):
    """No audio track, a black picture and a frozen one are each reported with their times."""
    warnings = clip_qa(clips["black"], 2.0, "night")
    assert warnings == [
        "shot `night`: no audio track: the cut plays silence under it",
        "shot `night`: black picture from 0.00 s to 2.00 s",
        "shot `night`: frozen picture from 0.00 s to 2.00 s",
    ]


def test_silent_track_and_still_picture(tmp_path: Path):
    """A sound track of pure silence and a still picture are both worth a warning."""
    still = make_clip(tmp_path / "still.mp4", 1.5, video="color=red", tone=False)
    dest = tmp_path / "silent.mp4"
    normalize_clip(still, dest, ClipSpec(FMT), tmp_path)  # adds a silent track
    assert clip_qa(dest, None, "wall") == [
        "shot `wall`: the audio track is silent",
        "shot `wall`: frozen picture from 0.00 s to 1.50 s",
    ]


@pytest.mark.parametrize("expected", [None, 2.02])
def test_no_length_warning_within_a_frame(clips: dict[str, Path], expected: float | None):
    """Unknown expectations, or a difference under a frame, are not reported."""
    assert clip_qa(clips["s2"], expected, "storm") == []
