"""Cost estimates: a price table per second of output, by endpoint and resolution, plus input fees.

The defaults are xAI's reported list prices for grok-imagine-video (fal publishes no v1 prices);
override them in ``grokreel.toml`` (``[prices]``, next to the storyboard or in a parent folder) or
in the storyboard's ``prices:`` key. The animatic backend is free.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .plan import Job, Plan

__all__ = ["PriceTable", "estimate", "load_prices"]


class PriceTable(BaseModel):
    """USD prices. ``per_second[endpoint][resolution]`` overrides ``output_per_second``."""

    model_config = ConfigDict(extra="forbid")

    output_per_second: dict[str, float] = Field(
        default_factory=lambda: {"480p": 0.05, "720p": 0.07}
    )
    per_second: dict[str, dict[str, float]] = Field(default_factory=dict)
    image_input: float = 0.002
    video_input_per_second: float = 0.01

    def rate(self, endpoint: str, resolution: str) -> float:
        table = self.output_per_second | self.per_second.get(endpoint, {})
        return table.get(resolution, max(table.values(), default=0.0))


def load_prices(storyboard: Path, overrides: dict[str, Any] | None = None) -> PriceTable:
    """Defaults, then the nearest ``grokreel.toml``'s ``[prices]``, then the storyboard's."""
    data: dict[str, Any] = {}
    for folder in [storyboard.resolve().parent, *storyboard.resolve().parent.parents]:
        config = folder / "grokreel.toml"
        if config.is_file():
            data |= tomllib.loads(config.read_text()).get("prices", {})
            break
    return PriceTable.model_validate(data | (overrides or {}))


def output_resolution(plan: Plan, job: Job) -> str:
    """The resolution a job's output is billed at (edits default to 480p, extends follow source)."""
    requested = job.request.get("resolution")
    if requested and requested != "auto":
        return requested
    if job.kind == "extend" and job.deps:
        return output_resolution(plan, plan.job(job.deps[0]))
    return "480p" if job.kind == "edit" else "720p"


def estimate(plan: Plan, job: Job, prices: PriceTable) -> float:
    """Estimated USD for one job; 0 for local jobs (frames, the cut)."""
    if not job.endpoint:
        return 0.0
    rate = prices.rate(job.endpoint, output_resolution(plan, job))
    request = job.request
    if job.kind == "extend":
        extension = float(request["duration"])
        source = (job.duration or extension) - extension
        return round(extension * rate + source * prices.video_input_per_second, 4)
    if job.kind == "edit":
        seconds = job.duration or 8.0
        return round(seconds * (rate + prices.video_input_per_second), 4)
    images = len(request.get("reference_image_urls", [])) + ("image_url" in request)
    return round(float(request["duration"]) * rate + images * prices.image_input, 4)
