"""The storyboard language as pydantic models: what an author may write, before any cross-checks.

Cross-references (shot and asset names, cycles, durations through chains) are the compiler's job;
these models only check the shape and the value ranges of each key. Numbers are strict (`true` is
not 1 s). The reference for authors is `grokreel help` (grokreel/reference/storyboard.md).
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, field_validator, model_validator

from ..api import AspectRatio, Resolution

__all__ = [
    "Asset",
    "CutItem",
    "Defaults",
    "MediaRef",
    "Music",
    "Output",
    "PostEdit",
    "Shot",
    "ShotKind",
    "Storyboard",
    "Title",
    "Transition",
]

NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_-]*$"
Name = Annotated[str, Field(pattern=NAME_PATTERN)]
ShotKind = Literal["text", "image", "references", "edit", "extend"]
Int = Annotated[int, Strict()]  # YAML's true/false and 4.5 are not whole numbers
Seconds = Annotated[float, Strict(), Field(allow_inf_nan=False)]  # ints yes; booleans, text no
MAX_TAKE = 9999
_FRAME_FORMS = 'should be `first`, `last`, or seconds into the shot (1.5 or "1.5s")'
Colour = Annotated[str, Field(pattern=r"^(#[0-9A-Fa-f]{3}|#[0-9A-Fa-f]{6}|[A-Za-z]+)$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Defaults(_Strict):
    """Values every shot gets unless it says otherwise."""

    resolution: Resolution | None = None
    aspect_ratio: Literal["auto", "16:9", "4:3", "3:2", "1:1", "2:3", "3:4", "9:16"] | None = None
    duration: Annotated[Int, Field(ge=1, le=15)] | None = None


class Asset(_Strict):
    """A named input: a local file (relative to the storyboard) or a URL."""

    path: str | None = None
    url: str | None = None
    kind: Literal["image", "video", "audio"] | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        if isinstance(value, str):
            is_url = value.startswith(("http://", "https://"))
            return {"url": value} if is_url else {"path": value}
        return value

    @model_validator(mode="after")
    def _one_place(self) -> Asset:
        if (self.path is None) == (self.url is None):
            raise ValueError("an asset needs exactly one of `path` or `url`")
        return self


class MediaRef(_Strict):
    """Where an input image or video comes from. A bare string is resolved by the compiler."""

    name: str | None = None
    shot: str | None = None
    asset: str | None = None
    path: str | None = None
    url: str | None = None
    frame: Literal["first", "last"] | Annotated[Seconds, Field(ge=0)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value

    @field_validator("frame", mode="before")
    @classmethod
    def _frame(cls, value: Any) -> Any:
        """`first`, `last`, or seconds into the shot: `1.5` or `"1.5s"`; one message otherwise."""
        if value in ("first", "last") or value is None:
            return value
        text = value.strip().removesuffix("s").strip() if isinstance(value, str) else None
        if isinstance(value, int | float) and not isinstance(value, bool):
            seconds: float | None = float(value)
        else:
            seconds = _number(text) if text else None
        if seconds is None or not 0 <= seconds < math.inf:
            raise ValueError(_FRAME_FORMS)
        return seconds

    @model_validator(mode="after")
    def _one_source(self) -> MediaRef:
        given = [
            f for f in ("name", "shot", "asset", "path", "url") if getattr(self, f) is not None
        ]
        if len(given) != 1:
            raise ValueError("give exactly one of `shot`, `asset`, `path` or `url`")
        return self


class PostEdit(_Strict):
    """An edit-video pass applied to a generated shot's output."""

    prompt: str
    resolution: Literal["auto", "480p", "720p"] | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        return {"prompt": value} if isinstance(value, str) else value


class Shot(_Strict):
    """One shot. Its kind follows from its source key (`image`, `references`, `video`)."""

    kind: ShotKind | None = None
    prompt: str
    image: MediaRef | None = None
    references: list[str] | None = None
    video: MediaRef | None = None
    duration: Int | None = None
    resolution: Literal["auto", "480p", "720p"] | None = None
    aspect_ratio: Literal["auto", "16:9", "4:3", "3:2", "1:1", "2:3", "3:4", "9:16"] | None = None
    edit: PostEdit | None = None
    take: Annotated[Int, Field(ge=1, le=MAX_TAKE)] = 1
    vars: dict[str, Any] = Field(default_factory=dict)
    title: str | None = None
    note: str | None = None
    caption: str | None = None

    @property
    def resolved_kind(self) -> ShotKind:
        if self.kind:
            return self.kind
        if self.image is not None:
            return "image"
        if self.references is not None:
            return "references"
        return "text"


class Transition(_Strict):
    """How the film passes into a clip from the one before it."""

    type: Literal["cut", "crossfade", "fade"] = "cut"
    duration: Annotated[Seconds, Field(ge=0, le=5)] = 0.5

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        return {"type": value} if isinstance(value, str) else value


class Title(_Strict):
    """Text over a clip (from ``start`` for ``duration`` seconds), or on a title card."""

    text: Annotated[str, Field(min_length=1)]
    start: Annotated[Seconds, Field(ge=0)] = 0.0
    duration: Annotated[Seconds, Field(gt=0)] | None = None
    color: Colour = "white"

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        return {"text": value} if isinstance(value, str) else value


class CutItem(_Strict):
    """One clip of the final film (a shot, trimmed and titled), or a title card (no shot)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    shot: str | None = None
    title: Title | None = None
    duration: Annotated[Seconds, Field(gt=0, le=60)] | None = None  # a title card's length
    background: Colour | None = None  # a title card's colour
    in_: Annotated[Seconds, Field(ge=0)] | None = Field(default=None, alias="in")
    out: Annotated[Seconds, Field(gt=0)] | None = None
    transition: Transition | None = None
    fade_out: Annotated[Seconds, Field(gt=0, le=5)] | None = None
    mute: bool = False

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        return {"shot": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _shot_or_card(self) -> CutItem:
        if self.shot is None and self.title is None:
            raise ValueError("a cut item needs `shot` (a clip) or `title` (a title card)")
        if self.shot is not None and (self.duration is not None or self.background is not None):
            raise ValueError(
                "`duration` and `background` belong to a title card; "
                "trim a shot with `in` and `out`"
            )
        if self.shot is None and (self.in_ is not None or self.out is not None or self.mute):
            raise ValueError("`in`, `out` and `mute` apply to a shot, not to a title card")
        if self.in_ is not None and self.out is not None and self.out <= self.in_:
            raise ValueError("`out` must come after `in`")
        return self


class Music(_Strict):
    """A music bed under the whole film: an audio (or video) asset or file."""

    asset: str | None = None
    path: str | None = None
    volume: Annotated[Seconds, Field(ge=0, le=4)] = 1.0
    fade_in: Annotated[Seconds, Field(ge=0)] = 0.0
    fade_out: Annotated[Seconds, Field(ge=0)] = 0.0
    start: Annotated[Seconds, Field(ge=0)] = 0.0  # seconds into the music where the film begins
    loop: bool = False

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"path": value} if "/" in value or "." in value else {"asset": value}
        return value

    @model_validator(mode="after")
    def _one_source(self) -> Music:
        if (self.asset is None) == (self.path is None):
            raise ValueError("give exactly one of `asset` or `path`")
        return self


class Output(_Strict):
    """The final film's file and format."""

    path: str | None = None
    resolution: Resolution = "720p"
    aspect_ratio: AspectRatio = "16:9"
    fps: Annotated[Int, Field(ge=1, le=60)] = 24
    fit: Literal["letterbox", "crop"] = "letterbox"
    captions: Literal["both", "burn", "srt", "none"] = "both"  # the shots' `caption`s


class Storyboard(_Strict):
    """A whole storyboard file."""

    version: Literal[1] = 1
    title: str | None = None
    note: str | None = None
    defaults: Defaults = Field(default_factory=Defaults)
    vars: dict[str, Any] = Field(default_factory=dict)
    assets: dict[Name, Asset] = Field(default_factory=dict)
    shots: dict[Name, Shot] = Field(default_factory=dict)  # none at all: the compiler says so
    cut: list[CutItem] | None = None
    music: Music | None = None
    output: Output = Field(default_factory=Output)
    prices: dict[str, Any] | None = None  # checked against cost.PriceTable by the compiler

    @field_validator("shots", mode="before")
    @classmethod
    def _shots_mapping(cls, value: Any) -> Any:
        if isinstance(value, list):
            raise ValueError("`shots` is a mapping of shot name to shot, not a list")
        return value


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None
