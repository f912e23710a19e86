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
    # Validators are built on first use: Storyboard builds what it nests, in one validator.
    model_config = ConfigDict(extra="forbid", defer_build=True)


class Defaults(_Strict):
    """Values every shot gets unless it says otherwise."""

    resolution: Resolution | None = None
    """Output lines of every shot: `480p` or `720p` (API default 720p; references 480p)."""
    aspect_ratio: Literal["auto", "16:9", "4:3", "3:2", "1:1", "2:3", "3:4", "9:16"] | None = None
    """Frame shape of every shot; `auto` follows the input image."""
    duration: Annotated[Int, Field(ge=1, le=15)] | None = None
    """Seconds of every shot (1-15; references 1-10, extend 2-10)."""


class Asset(_Strict):
    """A named input: a local file (relative to the storyboard) or a URL."""

    path: str | None = None
    """A local file, relative to the storyboard."""
    url: str | None = None
    """An http(s) URL (the fal backend only)."""
    kind: Literal["image", "video", "audio"] | None = None
    """What the file holds, when its name does not say."""

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
    """A shot or asset name (as a bare string)."""
    shot: str | None = None
    """Another shot: its video, or one `frame` of it."""
    asset: str | None = None
    """A named asset from `assets`."""
    path: str | None = None
    """A local file, relative to the storyboard."""
    url: str | None = None
    """An http(s) URL (the fal backend only)."""
    frame: Literal["first", "last"] | Annotated[Seconds, Field(ge=0)] | None = None
    """Which frame of a shot: `first`, `last`, or seconds into it (1.5 or "1.5s")."""

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
    """What the edit-video pass should change."""
    resolution: Literal["auto", "480p", "720p"] | None = None
    """The edit's output lines; `auto` keeps the source's."""

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        return {"prompt": value} if isinstance(value, str) else value


class Shot(_Strict):
    """One shot. Its kind follows from its source key (`image`, `references`, `video`)."""

    kind: ShotKind | None = None
    """text, image, references, edit or extend; inferred from `image`/`references` when left out."""
    prompt: str
    """What the shot shows; `{{ var }}` fills in `vars`, `@name` points at a reference image."""
    image: MediaRef | None = None
    """The first frame (image-to-video): an asset, a file, or `{shot: NAME, frame: last}`."""
    references: list[str] | None = None
    """Asset names the prompt mentions as `@name` (reference-to-video, up to 7)."""
    video: MediaRef | None = None
    """The source video of an `edit` or `extend` shot: a shot or a video asset."""
    duration: Int | None = None
    """Seconds of video."""
    resolution: Literal["auto", "480p", "720p"] | None = None
    """Output lines: 480p or 720p (`auto` for edits)."""
    aspect_ratio: Literal["auto", "16:9", "4:3", "3:2", "1:1", "2:3", "3:4", "9:16"] | None = None
    """Frame shape; `auto` follows the input image."""
    edit: PostEdit | None = None
    """An edit-video pass over this shot's output (a prompt, or {prompt, resolution})."""
    take: Annotated[Int, Field(ge=1, le=MAX_TAKE)] = 1
    """Which variation: a new number renders a new take; earlier takes stay cached."""
    vars: dict[str, Any] = Field(default_factory=dict)
    """Template variables for this shot only (over the storyboard's `vars`)."""
    title: str | None = None
    """A display name (the review page, reports)."""
    note: str | None = None
    """A note for people; never sent."""
    caption: str | None = None
    """A subtitle for this shot in the cut (burned in and/or in the .srt)."""

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
    """cut, crossfade (from the clip before) or fade (through black)."""
    duration: Annotated[Seconds, Field(ge=0, le=5)] = 0.5
    """Seconds the transition lasts."""

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        return {"type": value} if isinstance(value, str) else value


class Title(_Strict):
    """Text over a clip (from ``start`` for ``duration`` seconds), or on a title card."""

    text: Annotated[str, Field(min_length=1)]
    """The words shown."""
    start: Annotated[Seconds, Field(ge=0)] = 0.0
    """Seconds into the clip it appears."""
    duration: Annotated[Seconds, Field(gt=0)] | None = None
    """Seconds it stays (default: to the end of the clip)."""
    color: Colour = "white"
    """A colour name or #rgb / #rrggbb."""

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        return {"text": value} if isinstance(value, str) else value


class CutItem(_Strict):
    """One clip of the final film (a shot, trimmed and titled), or a title card (no shot)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)

    shot: str | None = None
    """The shot this clip shows."""
    title: Title | None = None
    """Text over the clip, or a title card when there is no `shot`."""
    duration: Annotated[Seconds, Field(gt=0, le=60)] | None = None  # a title card's length
    """A title card's length in seconds."""
    background: Colour | None = None  # a title card's colour
    """A title card's colour."""
    in_: Annotated[Seconds, Field(ge=0)] | None = Field(default=None, alias="in")
    """Trim: seconds into the shot where the clip starts."""
    out: Annotated[Seconds, Field(gt=0)] | None = None
    """Trim: seconds into the shot where the clip ends."""
    transition: Transition | None = None
    """How the film passes into this clip."""
    fade_out: Annotated[Seconds, Field(gt=0, le=5)] | None = None
    """Seconds of fade to black at the clip's end."""
    mute: bool = False
    """Drop the clip's own sound."""

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
    """An audio (or video) asset name."""
    path: str | None = None
    """An audio file, relative to the storyboard."""
    volume: Annotated[Seconds, Field(ge=0, le=4)] = 1.0
    """Gain (1 = as recorded)."""
    fade_in: Annotated[Seconds, Field(ge=0)] = 0.0
    """Seconds of fade in."""
    fade_out: Annotated[Seconds, Field(ge=0)] = 0.0
    """Seconds of fade out at the film's end."""
    start: Annotated[Seconds, Field(ge=0)] = 0.0  # seconds into the music where the film begins
    """Seconds into the music where the film begins."""
    loop: bool = False
    """Repeat the music to cover the film."""

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
    """Where the film goes (default: beside the storyboard, .mp4); inside the project."""
    resolution: Resolution = "720p"
    """The film's lines."""
    aspect_ratio: AspectRatio = "16:9"
    """The film's frame shape."""
    fps: Annotated[Int, Field(ge=1, le=60)] = 24
    """Frames per second."""
    fit: Literal["letterbox", "crop"] = "letterbox"
    """How a clip of another shape fills the frame."""
    captions: Literal["both", "burn", "srt", "none"] = "both"  # the shots' `caption`s
    """Where shots' captions go: burned in, an .srt beside the film, both, or none."""
    font: str | None = None
    """A .ttf/.otf/.ttc font for titles, captions and the text on animatic drafts (inside the
    project); characters it lacks, and text without it, use Pillow's font then the installed fonts
    that have them."""


class Storyboard(_Strict):
    """A whole storyboard file."""

    version: Literal[1] = 1
    """The language version."""
    title: str | None = None
    """The film's title."""
    note: str | None = None
    """A note for people."""
    defaults: Defaults = Field(default_factory=Defaults)
    """Values every shot gets unless it says otherwise."""
    vars: dict[str, Any] = Field(default_factory=dict)
    """Template variables for prompts: `{{ name }}`."""
    assets: dict[Name, Asset] = Field(default_factory=dict)
    """Named inputs: a path relative to the storyboard, or a URL."""
    shots: dict[Name, Shot] = Field(default_factory=dict)  # none at all: the compiler says so
    """The shots, by name; each renders one video."""
    cut: list[CutItem] | None = None
    """The film in order: shots, trimmed clips, transitions, title cards (default: every shot)."""
    music: Music | None = None
    """A music bed under the whole film."""
    output: Output = Field(default_factory=Output)
    """The final film's file and format."""
    prices: dict[str, Any] | None = None  # checked against cost.PriceTable by the compiler
    """Price overrides (USD per second by endpoint and resolution)."""

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
