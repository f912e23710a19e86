"""The Grok Imagine Video API contract (five fal endpoints): fields, enums, ranges and defaults.

These models are the seed document made executable. The compiler validates every request
against them and stores the *normalized* input (defaults filled in), so an omitted field and its
default value are the same request and the same cache key.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ENDPOINTS",
    "EditVideoInput",
    "ExtendVideoInput",
    "ImageToVideoInput",
    "ReferenceToVideoInput",
    "TextToVideoInput",
    "VideoFile",
    "VideoOutput",
    "endpoint_id",
    "normalize_input",
]

APP = "xai/grok-imagine-video"
MAX_PROMPT = 4096
MAX_REFERENCES = 7
EDIT_MAX_SOURCE_SECONDS = 8.0
EXTEND_SOURCE_RANGE = (2.0, 15.0)

AspectRatio = Literal["16:9", "4:3", "3:2", "1:1", "2:3", "3:4", "9:16"]
Resolution = Literal["480p", "720p"]
Prompt = Annotated[str, Field(min_length=1, max_length=MAX_PROMPT)]


class _Input(BaseModel):
    # Validators are built on first use: a text-only storyboard never builds the other four.
    model_config = ConfigDict(extra="forbid", defer_build=True)

    prompt: Prompt


class TextToVideoInput(_Input):
    duration: Annotated[int, Field(ge=1, le=15)] = 6
    aspect_ratio: AspectRatio = "16:9"
    resolution: Resolution = "720p"


class ImageToVideoInput(_Input):
    image_url: str
    duration: Annotated[int, Field(ge=1, le=15)] = 6
    aspect_ratio: Literal["auto"] | AspectRatio = "auto"
    resolution: Resolution = "720p"


class ReferenceToVideoInput(_Input):
    reference_image_urls: Annotated[list[str], Field(min_length=1, max_length=MAX_REFERENCES)]
    duration: Annotated[int, Field(ge=1, le=10)] = 8
    aspect_ratio: AspectRatio = "16:9"
    resolution: Resolution = "480p"


class EditVideoInput(_Input):
    video_url: str
    resolution: Literal["auto"] | Resolution = "auto"


class ExtendVideoInput(_Input):
    video_url: str
    duration: Annotated[int, Field(ge=2, le=10)] = 6


class VideoFile(BaseModel):
    """The video the API returns (fields beyond the seed's are kept, e.g. ``file_size``)."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    url: str
    content_type: str | None = None
    file_name: str | None = None
    file_size: int | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    duration: float | None = None
    num_frames: int | None = None


class VideoOutput(BaseModel):
    model_config = ConfigDict(extra="allow", defer_build=True)

    video: VideoFile


ENDPOINTS: dict[str, type[_Input]] = {
    "text-to-video": TextToVideoInput,
    "image-to-video": ImageToVideoInput,
    "reference-to-video": ReferenceToVideoInput,
    "edit-video": EditVideoInput,
    "extend-video": ExtendVideoInput,
}

#: The request fields that carry media; the compiler puts content references there.
FILE_FIELDS = {"image_url", "reference_image_urls", "video_url"}


def endpoint_id(name: str) -> str:
    """``text-to-video`` → ``xai/grok-imagine-video/text-to-video``."""
    return f"{APP}/{name}"


def normalize_input(endpoint: str, data: dict[str, Any]) -> dict[str, Any]:
    """Validate ``data`` for ``endpoint`` and return it with every default made explicit."""
    return ENDPOINTS[endpoint].model_validate(data).model_dump(mode="json")
