"""Read what a video file really holds, per stream, with PyAV (no ffprobe needed)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import MediaError

__all__ = ["MediaInfo", "probe"]


@dataclass(frozen=True)
class MediaInfo:
    """Measured facts of a video file; durations are per stream, not the container's guess."""

    width: int
    height: int
    fps: float
    num_frames: int
    video_duration: float
    audio_duration: float | None
    video_codec: str
    audio_codec: str | None
    pix_fmt: str
    audio_rate: int | None
    audio_channels: int | None
    size: int

    @property
    def duration(self) -> float:
        """The playable length: the video stream's."""
        return self.video_duration

    @property
    def has_audio(self) -> bool:
        return self.audio_codec is not None

    def as_dict(self) -> dict[str, object]:
        return asdict(self) | {"duration": self.duration}


def _stream_seconds(stream, container_duration: float) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    return container_duration


def probe(path: Path) -> MediaInfo:
    """Probe ``path``; raise MediaError when it is not a readable video."""
    import av

    try:
        with av.open(str(path)) as container:
            total = (container.duration or 0) / 1_000_000
            if not container.streams.video:
                raise MediaError(f"{path}: no video stream")
            video = container.streams.video[0]
            audio = container.streams.audio[0] if container.streams.audio else None
            rate = video.average_rate or video.guessed_rate or 24
            frames = video.frames or round(_stream_seconds(video, total) * float(rate))
            return MediaInfo(
                width=video.codec_context.width,
                height=video.codec_context.height,
                fps=float(rate),
                num_frames=int(frames),
                video_duration=_stream_seconds(video, total),
                audio_duration=_stream_seconds(audio, total) if audio else None,
                video_codec=video.codec_context.name,
                audio_codec=audio.codec_context.name if audio else None,
                pix_fmt=video.codec_context.pix_fmt or "",
                audio_rate=audio.codec_context.sample_rate if audio else None,
                audio_channels=audio.codec_context.channels if audio else None,
                size=Path(path).stat().st_size,
            )
    except (av.error.FFmpegError, OSError) as exc:
        raise MediaError(f"cannot read video {path}: {exc}") from exc
