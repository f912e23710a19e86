"""What a file holds, from its first bytes (magic numbers), never from its name.

A storyboard's asset named `x.png` may be a text file, and a clip in the cache has no extension at
all; so checks ("is this an image?") and uploads (their Content-Type) read the bytes. Pure Python,
no media library: the compiler and the uploader may use it freely.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["HEAD_BYTES", "MediaKind", "MediaType", "media_type", "media_type_of", "sniff"]

MediaKind = Literal["image", "video", "audio"]
HEAD_BYTES = 64


@dataclass(frozen=True)
class MediaType:
    """A sniffed format: its kind, MIME type and usual file extension."""

    kind: MediaKind
    mime: str
    suffix: str


def media_type(head: bytes) -> MediaType | None:
    """The format of a file whose first bytes are ``head``, or None if unknown."""
    riff = head[8:12] if head.startswith(b"RIFF") else b""
    box = head[4:8]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return MediaType("image", "image/png", ".png")
    if head.startswith(b"\xff\xd8\xff"):
        return MediaType("image", "image/jpeg", ".jpg")
    if head.startswith((b"GIF87a", b"GIF89a")):
        return MediaType("image", "image/gif", ".gif")
    if riff == b"WEBP":
        return MediaType("image", "image/webp", ".webp")
    if head.startswith(b"BM"):
        return MediaType("image", "image/bmp", ".bmp")
    if box == b"ftyp" and head[8:10] == b"qt":
        return MediaType("video", "video/quicktime", ".mov")
    if box in (b"ftyp", b"moov", b"mdat", b"wide", b"free"):
        return MediaType("video", "video/mp4", ".mp4")  # MP4, M4V (and M4A, a sound track)
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        webm = b"webm" in head
        return MediaType("video", "video/webm" if webm else "video/x-matroska", ".webm")
    if riff == b"AVI ":
        return MediaType("video", "video/x-msvideo", ".avi")
    return _audio(head, riff)


def _audio(head: bytes, riff: bytes) -> MediaType | None:
    if riff == b"WAVE":
        return MediaType("audio", "audio/wav", ".wav")
    if head.startswith(b"OggS"):
        return MediaType("audio", "audio/ogg", ".ogg")
    if head.startswith(b"fLaC"):
        return MediaType("audio", "audio/flac", ".flac")
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return MediaType("audio", "audio/mpeg", ".mp3")
    return None


def sniff(head: bytes) -> MediaKind | None:
    """The media kind of a file whose first bytes are ``head``, or None."""
    found = media_type(head)
    return found.kind if found else None


def media_type_of(path: Path) -> MediaType | None:
    """The format of the file at ``path`` (reads its first bytes)."""
    with open(path, "rb") as f:
        return media_type(f.read(HEAD_BYTES))
