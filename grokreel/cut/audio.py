"""The film's sound, built sample by sample and streamed: no gap, no drift, no click at a join.

Copying AAC across a join keeps each clip's 1024 priming samples and drifts ~37 ms per cut (see
docs/cut.md), so the picture is copied but the sound is rebuilt: every clip's samples are decoded
and placed at the film sample where its first frame lands, faded where it crossfades or fades,
summed with the music bed, and handed on in order as float32 stereo blocks. Only one clip (two at a
crossfade) and a few blocks are in memory at any time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import MediaError
from .encoding import AUDIO_RATE

if TYPE_CHECKING:
    from av.audio.frame import AudioFrame
    from av.audio.stream import AudioStream
    from av.container import InputContainer

__all__ = ["MusicBed", "Sound", "film_audio", "read_samples"]

BLOCK = AUDIO_RATE  # samples per block handed on (one second)


@dataclass(frozen=True)
class Sound:
    """A clip's sound: ``count`` samples placed at film sample ``start``, with linear ramps."""

    path: Path
    start: int
    count: int
    ramp_in: int = 0
    ramp_out: int = 0
    gain: float = 1.0


@dataclass(frozen=True)
class MusicBed:
    """A track under the whole film: level, fades at the film's ends, start point, looping."""

    path: Path
    volume: float = 1.0
    fade_in: float = 0.0
    fade_out: float = 0.0
    offset: float = 0.0  # seconds into the music where the film starts
    loop: bool = False


def film_audio(
    sounds: list[Sound], total: int, music: MusicBed | None = None
) -> Iterator[np.ndarray]:
    """Exactly ``total`` samples of the film's sound, as float32 (2, n) blocks in order."""
    bus = _Bus()
    bed = _Bed(music, total) if music else None
    for i, sound in enumerate(sounds):
        safe = sounds[i + 1].start if i + 1 < len(sounds) else total
        at = sound.start
        for block in _shaped(sound):
            bus.add(at, block)
            at += block.shape[1]
            yield from _mixed(bus.take(min(at, safe)), bed)
    yield from _mixed(bus.take(total), bed)


def _mixed(block: np.ndarray, bed: _Bed | None) -> Iterator[np.ndarray]:
    if block.shape[1]:
        yield block + bed.read(block.shape[1]) if bed else block


def _shaped(sound: Sound) -> Iterator[np.ndarray]:
    """The clip's samples under its gain and its fade-in and fade-out ramps."""
    if sound.gain == 0:
        return
    done = 0
    for block in read_samples(sound.path, sound.count):
        index = np.arange(done, done + block.shape[1], dtype=np.float64)
        gain = np.full(index.shape, sound.gain)
        if sound.ramp_in:
            gain *= np.clip((index + 0.5) / sound.ramp_in, 0, 1)
        if sound.ramp_out:
            gain *= np.clip((sound.count - index - 0.5) / sound.ramp_out, 0, 1)
        done += block.shape[1]
        yield (block * gain.astype(np.float32)).astype(np.float32)


class _Bus:
    """Sums blocks at film sample positions; hands out finished samples from the front."""

    def __init__(self) -> None:
        self.start = 0
        self.buffer = np.zeros((2, 0), np.float32)

    def add(self, at: int, block: np.ndarray) -> None:
        if at < self.start:  # never happens for valid timelines: samples already handed on
            block, at = block[:, self.start - at :], self.start
        end = at - self.start + block.shape[1]
        if end > self.buffer.shape[1]:
            grow = np.zeros((2, end - self.buffer.shape[1]), np.float32)
            self.buffer = np.concatenate([self.buffer, grow], axis=1)
        self.buffer[:, at - self.start : end] += block

    def take(self, until: int) -> np.ndarray:
        """Samples [start, until): what was added there, silence where nothing was."""
        n = max(0, until - self.start)
        out = np.zeros((2, n), np.float32)
        have = min(n, self.buffer.shape[1])
        out[:, :have] = self.buffer[:, :have]
        self.buffer = self.buffer[:, have:]
        self.start += n
        return out


class _Bed:
    """The music, read on demand, with its volume and fades over the film's ``total`` samples."""

    def __init__(self, music: MusicBed, total: int):
        self.music, self.total, self.at = music, total, 0
        self.source = read_samples(
            music.path, total, skip=round(music.offset * AUDIO_RATE), loop=music.loop
        )
        self.pending = np.zeros((2, 0), np.float32)

    def read(self, n: int) -> np.ndarray:
        while self.pending.shape[1] < n:
            self.pending = np.concatenate([self.pending, next(self.source)], axis=1)
        out, self.pending = self.pending[:, :n], self.pending[:, n:]
        index = np.arange(self.at, self.at + n, dtype=np.float64)
        self.at += n
        return out * self._gain(index).astype(np.float32)

    def _gain(self, index: np.ndarray) -> np.ndarray:
        gain = np.full(index.shape, self.music.volume)
        if self.music.fade_in > 0:
            gain *= np.clip((index + 0.5) / (self.music.fade_in * AUDIO_RATE), 0, 1)
        if self.music.fade_out > 0:
            gain *= np.clip((self.total - index - 0.5) / (self.music.fade_out * AUDIO_RATE), 0, 1)
        return gain


def read_samples(
    path: Path, count: int, *, skip: int = 0, loop: bool = False
) -> Iterator[np.ndarray]:
    """Exactly ``count`` samples of ``path``'s sound from sample ``skip``, as 48 kHz stereo.

    Positions are measured from the start of the video (or of the sound, in an audio file), so
    priming and a late-starting track land right; missing sound is silence. ``loop`` starts the
    file over at its end.
    """
    emitted = 0
    while emitted < count:
        got = 0
        for block in _decoded(path, skip, count - emitted):
            got += block.shape[1]
            emitted += block.shape[1]
            yield block
        if not loop or got == 0:
            break
        skip = 0
    while emitted < count:
        n = min(BLOCK, count - emitted)
        emitted += n
        yield np.zeros((2, n), np.float32)


def _decoded(path: Path, skip: int, count: int) -> Iterator[np.ndarray]:
    """Up to ``count`` samples from position ``skip``, grouped into blocks of about a second."""
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                return
            stream = container.streams.audio[0]
            origin = _origin(container)
            count = min(count, _length(stream, origin) - skip)
            if count > 0:
                yield from _regroup(_positioned(container, stream, origin), skip, count)
    except av.error.FFmpegError as exc:
        raise MediaError(f"cannot read the sound of {path}: {exc}") from exc


def _origin(container: InputContainer) -> float:
    """Time zero of the file: the video's first frame, or the sound's first sample."""
    streams = container.streams.video or container.streams.audio
    stream = streams[0]
    if stream.start_time is None or stream.time_base is None:
        return 0.0
    return float(stream.start_time * stream.time_base)


def _length(stream: AudioStream, origin: float) -> int:
    """Samples up to the sound's declared end: the codec's padding after it is not sound."""
    if not stream.duration or stream.time_base is None:
        return 1 << 62
    start = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
    return round((start - origin + float(stream.duration * stream.time_base)) * AUDIO_RATE)


def _positioned(
    container: InputContainer, stream: AudioStream, origin: float
) -> Iterator[tuple[int, np.ndarray]]:
    """(first sample position, samples) of each resampled chunk, in order."""
    import av

    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=AUDIO_RATE)
    position: int | None = None
    for frame in _with_flush(container.decode(stream)):
        for out in resampler.resample(frame):
            if position is None:
                start = frame.time if frame is not None and frame.time is not None else origin
                position = round((start - origin) * AUDIO_RATE)
            chunk = out.to_ndarray().astype(np.float32, copy=False)
            yield position, chunk
            position += chunk.shape[1]


def _with_flush(frames: Iterator[AudioFrame]) -> Iterator[AudioFrame | None]:
    yield from frames
    yield None


def _regroup(
    chunks: Iterator[tuple[int, np.ndarray]], skip: int, count: int
) -> Iterator[np.ndarray]:
    """Cut positioned chunks to [skip, skip + count), filling holes with silence, in blocks."""
    pending: list[np.ndarray] = []
    at, held = skip, 0  # the next wanted position, and samples held in pending
    for position, chunk in chunks:
        if position + chunk.shape[1] <= at:
            continue
        if position > at:  # a hole before this chunk
            pending.append(np.zeros((2, position - at), np.float32))
            held, at = held + position - at, position
        chunk = chunk[:, at - position :][:, : skip + count - at]
        pending.append(chunk)
        held, at = held + chunk.shape[1], at + chunk.shape[1]
        if held >= BLOCK or at >= skip + count:
            yield np.concatenate(pending, axis=1)
            pending, held = [], 0
        if at >= skip + count:
            return
    if pending:
        yield np.concatenate(pending, axis=1)
