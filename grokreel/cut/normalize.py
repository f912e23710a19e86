"""Bring one clip into the film's format: once per clip, cached by the executor as its own job.

Three ways, cheapest first:

- **link**: the clip already has the film's encoding (same SPS/PPS, constant frame rate on the
  film's grid) and sound (AAC 48 kHz stereo): its bytes are used as they are;
- **remux**: the picture has the film's encoding but the sound does not, or the clip is cut short:
  the video is copied and only the audio is re-encoded;
- **encode**: anything else (another size, codec or frame rate, a trimmed start, a title or a
  burned caption): scaled with letterbox or crop, converted to BT.709, re-encoded.

Every result has exactly one frame per 1/fps and an audio track exactly as long, silent if the
source had none, so the film's join can copy the picture and place the sound sample-accurately.
That sound is 16-bit PCM: the join decodes every clip's sound and encodes the film's once, so an
AAC encode here would only cost time (it was two thirds of a short clip's normalization) and a
generation of loss. Title cards keep AAC: the OpenTimelineIO export hands them to editors.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from ..errors import MediaError
from .encoding import (
    AUDIO_ARGS,
    AUDIO_RATE,
    COLOUR_TAIL,
    TO_BT709,
    FilmFormat,
    StreamFacts,
    inspect,
    run_ffmpeg,
    same_video,
    video_args,
)
from .text import Style, overlay_image, parse_colour

__all__ = ["Card", "ClipSpec", "Overlay", "normalize_clip"]

SILENCE = f"anullsrc=r={AUDIO_RATE}:cl=stereo"
#: A clip's sound as the film's join reads it back: lossless and nearly free to write.
CLIP_AUDIO_ARGS = ["-c:a", "pcm_s16le", "-ar", str(AUDIO_RATE), "-ac", "2"]


@dataclass(frozen=True)
class Overlay:
    """Text drawn over the picture from ``start`` to ``end`` seconds (None: to the clip's end)."""

    text: str
    style: Style = "title"
    start: float = 0.0
    end: float | None = None
    colour: str = "white"
    font: str = ""  # a storyboard's own font file, leading the fallback chain


@dataclass(frozen=True)
class Card:
    """A title card made from nothing: a plain background for ``duration`` seconds."""

    duration: float
    background: str = "black"


@dataclass(frozen=True)
class ClipSpec:
    """What to make of one clip: the film's format, a trim, text over it, or a card instead."""

    fmt: FilmFormat
    trim_in: float = 0.0
    trim_out: float | None = None
    overlays: tuple[Overlay, ...] = ()
    card: Card | None = None


def normalize_clip(
    source: Path | None, dest: Path, spec: ClipSpec, workdir: Path
) -> dict[str, Any]:
    """Write ``source`` (or the card) in the film's format to ``dest``; return how and its length.

    ``workdir`` holds the temporary text images; MediaError on any failure.
    """
    spec.fmt.check()
    if spec.card is not None:
        frames = _frame_count(spec.card.duration, spec.fmt)
        _encode_card(dest, spec, frames, workdir)
        return {"method": "encode", "frames": frames}
    if source is None:
        raise MediaError(f"{dest.name}: a clip needs a source video or a card")
    facts = inspect(source, spec.fmt.fps, scan=True)
    first, last = _span(source, _on_grid(facts, spec.fmt), spec)
    method = _method(facts, spec, first, last)
    if method == "link":
        _link(source, dest)
    elif method == "remux":
        _remux(source, dest, spec.fmt, last, facts.has_audio)
    else:
        _encode(source, dest, spec, (first, last), facts, workdir)
    frames = inspect(dest, spec.fmt.fps).frames
    if frames != last - first:
        raise MediaError(f"normalizing {source.name} gave {frames} frames, expected {last - first}")
    return {"method": method, "frames": frames}


def _frame_count(seconds: float, fmt: FilmFormat) -> int:
    return max(1, round(seconds * fmt.fps))


def _on_grid(facts: StreamFacts, fmt: FilmFormat) -> int:
    """How many frames the source gives at the film's fps."""
    return facts.frames if facts.regular else max(1, round(facts.seconds * fmt.fps))


def _span(source: Path, available: int, spec: ClipSpec) -> tuple[int, int]:
    """The frames [first, last) of the source the clip keeps, on the film's frame grid."""
    fps = spec.fmt.fps
    first = round(spec.trim_in * fps)
    last = available if spec.trim_out is None else min(available, round(spec.trim_out * fps))
    if last - first < 1:
        raise MediaError(
            f"{source.name}: trimming to {spec.trim_in:g}–{spec.trim_out} s leaves "
            f"nothing of its {available / spec.fmt.fps:.3f} s"
        )
    return first, last


def _method(facts: StreamFacts, spec: ClipSpec, first: int, last: int) -> str:
    """link, remux or encode: the cheapest way that gives the film's exact format."""
    if not same_video(facts, spec.fmt) or not facts.regular or first or spec.overlays:
        return "encode"
    return "link" if facts.audio_ok and last == facts.frames else "remux"


def _link(source: Path, dest: Path) -> None:
    """The same bytes: a hard link when the store shares the filesystem, else a copy."""
    try:
        os.link(source, dest)
    except OSError:
        shutil.copyfile(source, dest)


def _remux(source: Path, dest: Path, fmt: FilmFormat, last: int, has_audio: bool) -> None:
    """Copy the picture (cut after ``last`` frames); write the sound at the exact length."""
    inputs = ["-i", str(source)] + ([] if has_audio else ["-f", "lavfi", "-i", SILENCE])
    graph = _audio_graph("0:a" if has_audio else "1:a", 0.0, fmt.samples(last))
    run_ffmpeg(
        [
            *inputs,
            "-filter_complex",
            graph,
            "-map",
            "0:v:0",
            "-map",
            "[a]",
            "-c:v",
            "copy",
            "-frames:v",
            str(last),
            *CLIP_AUDIO_ARGS,
            str(dest),
        ],
        f"remux {source.name}",
    )


def _encode(
    source: Path,
    dest: Path,
    spec: ClipSpec,
    span: tuple[int, int],
    facts: StreamFacts,
    workdir: Path,
) -> None:
    """Decode, trim, fit, colour-convert, draw the text and encode, in one ffmpeg run."""
    fmt, (first, last) = spec.fmt, span
    picture = (
        f"[0:v]fps={fmt.fps},trim=start_frame={first}:end_frame={last},"
        f"setpts=PTS-STARTPTS,tpad=stop_mode=clone:stop=2,{_fit(source, fmt)}[v0]"
    )
    inputs = ["-i", str(source)] + ([] if facts.has_audio else ["-f", "lavfi", "-i", SILENCE])
    texts, graph = _overlays(spec, workdir, first_input=inputs.count("-i"), length=last - first)
    sound = _audio_graph(
        "0:a" if facts.has_audio else "1:a", first / fmt.fps, fmt.samples(last - first)
    )
    run_ffmpeg(
        [
            *inputs,
            *texts,
            "-filter_complex",
            ";".join([picture, *graph, sound]),
            "-map",
            "[v]",
            "-map",
            "[a]",
            "-frames:v",
            str(last - first),
            *video_args(fmt),
            *CLIP_AUDIO_ARGS,
            str(dest),
        ],
        f"normalize {source.name}",
    )


def _encode_card(dest: Path, spec: ClipSpec, frames: int, workdir: Path) -> None:
    """A card is one still image, encoded for ``frames`` frames over silence."""
    assert spec.card is not None
    fmt = spec.fmt
    image = workdir / f"{dest.stem}.card.png"
    Image.new("RGB", (fmt.width, fmt.height), parse_colour(spec.card.background)).save(image)
    texts, graph = _overlays(spec, workdir, first_input=2, length=frames)
    picture = f"[0:v]scale={TO_BT709},format=yuv420p[v0]"
    run_ffmpeg(
        [
            "-loop",
            "1",
            "-framerate",
            str(fmt.fps),
            "-i",
            str(image),
            "-f",
            "lavfi",
            "-i",
            SILENCE,
            *texts,
            "-filter_complex",
            ";".join([picture, *graph, _audio_graph("1:a", 0.0, fmt.samples(frames))]),
            "-map",
            "[v]",
            "-map",
            "[a]",
            "-frames:v",
            str(frames),
            *video_args(fmt),
            *AUDIO_ARGS,
            str(dest),
        ],
        "draw a title card",
    )


def _overlays(
    spec: ClipSpec, workdir: Path, first_input: int, length: int
) -> tuple[list[str], list[str]]:
    """Inputs and filter steps laying each text image over [v0], ending in [v]."""
    fmt, inputs, steps = spec.fmt, [], []
    for k, overlay in enumerate(spec.overlays):
        path = workdir / f"text{k}.png"
        picture = overlay_image(
            overlay.text, overlay.style, fmt.width, fmt.height, overlay.colour, overlay.font or None
        )
        picture.save(path)
        inputs += ["-i", str(path)]
        end = length / fmt.fps if overlay.end is None else overlay.end
        steps += [
            f"[{first_input + k}:v]scale={TO_BT709},format=yuva420p[t{k}]",
            f"[v{k}][t{k}]overlay=0:0:enable='between(t,{overlay.start:.6f},"
            f"{end - 0.5 / fmt.fps:.6f})'[v{k + 1}]",
        ]
    steps.append(f"[v{len(spec.overlays)}]{COLOUR_TAIL}[v]")
    return inputs, steps


def _audio_graph(label: str, start: float, samples: int) -> str:
    """The source's sound from ``start`` s, 48 kHz stereo, padded or cut to exactly ``samples``."""
    return (
        f"[{label}]aresample={AUDIO_RATE}:async=1:first_pts=0,"
        f"aformat=sample_fmts=fltp:channel_layouts=stereo,atrim=start={start:.6f},"
        f"asetpts=PTS-STARTPTS,apad,atrim=end_sample={samples}[a]"
    )


def _fit(source: Path, fmt: FilmFormat) -> str:
    """Scale to fit inside (letterbox) or cover (crop) the frame, then pad or crop to it exactly."""
    (width, height), colour = _source_picture(source)
    pick = min if fmt.fit == "letterbox" else max
    scale = pick(fmt.width / width, fmt.height / height)
    w, h = (max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2))
    if fmt.fit == "letterbox":
        w, h = min(w, fmt.width), min(h, fmt.height)
        place = f"pad={fmt.width}:{fmt.height}:{(fmt.width - w) // 2}:{(fmt.height - h) // 2}:black"
    else:
        w, h = max(w, fmt.width), max(h, fmt.height)
        place = f"crop={fmt.width}:{fmt.height}"
    return f"scale={w}:{h}:flags=bicubic:{colour}:{TO_BT709},{place}"


_MATRIX = {1: "bt709", 5: "bt601", 6: "bt601", 7: "smpte240m", 9: "bt2020", 10: "bt2020"}


def _source_picture(source: Path) -> tuple[tuple[int, int], str]:
    """The source's size and its YUV matrix and range (untagged HD is BT.709, as players assume)."""
    import av

    with av.open(str(source)) as container:
        cc = container.streams.video[0].codec_context
        matrix = _MATRIX.get(cc.colorspace) or ("bt709" if cc.height >= 720 else "bt601")
        full = cc.color_range == 2 or (cc.pix_fmt or "").startswith("yuvj")
        return (cc.width, cc.height), f"in_color_matrix={matrix}:in_range={'pc' if full else 'tv'}"
