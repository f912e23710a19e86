"""The offline animatic backend: draft clips that follow the API's contract, made on this machine.

It answers each endpoint as the API would (sizes, durations, extend = source + extension, edit
truncated to 8 s) so a storyboard's structure, timing and cut can be checked before money is spent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import api
from ..errors import BackendError, MediaError
from ..plan import film_size, nearest_aspect
from .base import Progress, RenderRequest, RenderResult

__all__ = ["ANIMATIC_ENGINE", "AnimaticBackend"]

# The version of the animatic's pictures and sound (grokreel/media: animatic, drawing, looks,
# encode, typeset). It is in the key of every job this backend renders (keys.job_key), so cached
# drafts are redrawn when it changes: bump it with any change there that alters a draft's pixels
# or samples. Paid backends' keys never hold it: a new key there is a new bill.
ANIMATIC_ENGINE = "animatic-2"  # 2: text in the storyboard's font; labels through the font chain


class AnimaticBackend:
    """Renders every endpoint locally and deterministically (same request → same bytes)."""

    name = "animatic"

    async def render(
        self, request: RenderRequest, workdir: Path, progress: Progress
    ) -> RenderResult:
        import asyncio  # here: the cache keys (keys.py) import this module for `plan` too

        progress("drafting")
        dest = workdir / f"{request.job_id}.mp4"
        try:
            await asyncio.to_thread(_render, request, dest)
        except MediaError as exc:
            raise BackendError(str(exc), shot=request.shot, endpoint=request.endpoint_id) from None
        from ..media.probe import probe

        info = probe(dest)
        video = {
            "url": dest.resolve().as_uri(),
            "content_type": "video/mp4",
            "file_name": dest.name,
            "file_size": info.size,
            "width": info.width,
            "height": info.height,
            "fps": info.fps,
            "duration": info.duration,
            "num_frames": info.num_frames,
        }
        api.VideoFile.model_validate(video)
        return RenderResult(dest, video)

    async def release(self, key: str, output: str) -> None:
        return None

    async def aclose(self) -> None:
        return None


def _local(request: RenderRequest, ref: str) -> Path:
    media = request.media.get(ref)
    if media is None or media.path is None:
        raise MediaError(f"the animatic backend needs local media; cannot fetch {ref}")
    return media.path


def _render(request: RenderRequest, dest: Path) -> None:
    from ..media import animatic
    from ..media.probe import probe

    data: dict[str, Any] = request.input
    seed = f"{request.key}/{request.variation}" if request.variation else request.key
    prompt, font = data["prompt"], request.font
    if request.endpoint in ("edit-video", "extend-video"):
        source = _local(request, data["video_url"])
        if request.endpoint == "extend-video":
            animatic.render_extend(
                dest,
                prompt=prompt,
                source=source,
                duration=data["duration"],
                seed=seed,
                chained=_chained(data["video_url"]),
                font=font,
            )
            return
        info = probe(source)
        aspect = nearest_aspect(info.width, info.height)
        resolution = "480p" if data["resolution"] == "auto" else data["resolution"]
        width, height = film_size(resolution, aspect)
        animatic.render_edit(
            dest,
            prompt=prompt,
            source=source,
            width=width,
            height=height,
            max_duration=api.EDIT_MAX_SOURCE_SECONDS,
            seed=seed,
            font=font,
        )
        return
    aspect = data["aspect_ratio"]
    common: dict[str, Any] = {
        "prompt": prompt,
        "duration": data["duration"],
        "seed": seed,
        "font": font,
    }
    if request.endpoint == "image-to-video":
        image = _local(request, data["image_url"])
        if aspect == "auto":
            aspect = _image_aspect(image)
        width, height = film_size(data["resolution"], aspect)
        chained = _chained(data["image_url"])
        animatic.render_image(
            dest, image=image, width=width, height=height, chained=chained, **common
        )
    elif request.endpoint == "reference-to-video":
        images = [_local(request, ref) for ref in data["reference_image_urls"]]
        width, height = film_size(data["resolution"], aspect)
        animatic.render_references(dest, images=images, width=width, height=height, **common)
    else:
        width, height = film_size(data["resolution"], aspect)
        animatic.render_text(dest, width=width, height=height, **common)


def _chained(ref: str) -> bool:
    """Whether an input is another job's output: on this backend, an animatic clip (or a frame of
    one) with a time code and caption drawn in, which the next shot should not repeat."""
    return ref.startswith("job:")


def _image_aspect(path: Path) -> str:
    from PIL import Image

    try:
        with Image.open(path) as image:
            return nearest_aspect(*image.size)
    except OSError as exc:
        raise MediaError(f"cannot read image {path.name}: {exc}") from None
