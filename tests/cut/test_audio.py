"""The sound path on its own: exact sample counts, positions, loops, ramps and overlaps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grokreel.cut.audio import MusicBed, Sound, film_audio, read_samples

from .conftest import RATE, sine


def samples(blocks) -> np.ndarray:
    return np.concatenate(list(blocks), axis=1)


@pytest.mark.parametrize(("skip", "count"), [(0, RATE), (1000, 5000), (RATE - 10, 30)])
def test_read_samples_is_exact_and_in_place(clips: dict[str, Path], skip: int, count: int):
    """Exactly ``count`` samples from ``skip``, matching the tone at those very positions
    (padded with silence past the end)."""
    got = samples(read_samples(clips["s0"], count, skip=skip))
    assert got.shape == (2, count)
    inside = min(count, RATE - skip)
    assert np.abs(got[0, :inside] - sine(skip, inside)).max() < 0.02
    assert not got[:, inside:].any()


def test_loop_starts_the_file_over(clips: dict[str, Path]):
    """A looping read continues from the file's start after its end."""
    got = samples(read_samples(clips["s0"], 2 * RATE + 100, loop=True))
    assert np.abs(got[0, RATE : RATE + 2000] - sine(0, 2000)).max() < 0.02


def test_silent_file_gives_silence(clips: dict[str, Path]):
    """A clip without sound reads as exact silence."""
    assert not samples(read_samples(clips["red"], 1234)).any()


def test_overlap_is_ramped_and_summed_and_length_exact(clips: dict[str, Path]):
    """Two sounds overlapping with linear ramps never exceed the louder one; the film's sound
    has exactly its total length, silence where nothing plays."""
    a = Sound(clips["s2"], 0, RATE, ramp_out=RATE // 2)
    b = Sound(clips["s2"], RATE // 2, RATE, ramp_in=RATE // 2)
    total = 2 * RATE
    got = samples(film_audio([a, b], total))
    assert got.shape == (2, total)
    assert np.abs(got).max() <= np.abs(samples(read_samples(clips["s2"], RATE))).max() + 1e-3
    assert not got[:, 3 * RATE // 2 :].any()


def test_muted_sound_and_music_bed(clips: dict[str, Path]):
    """Gain 0 silences a clip; the bed plays at its volume underneath."""
    bed = MusicBed(clips["s0"], volume=0.5)
    got = samples(film_audio([Sound(clips["s2"], 0, RATE, gain=0.0)], RATE, bed))
    assert np.abs(got[0, 2000:4000] - 0.5 * sine(2000, 2000)).max() < 0.02
