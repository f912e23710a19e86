"""Cost estimates: a price table per second of output, by endpoint and resolution, plus input fees.

The defaults are xAI's reported list prices for grok-imagine-video (fal publishes no v1 prices);
override them in ``grokreel.toml`` (``[prices]``, next to the storyboard or in a parent folder) or
in the storyboard's ``prices:`` key. The animatic backend is free.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError

from .config import Config, load_config
from .errors import Diagnostic, StoryboardError
from .job import Job
from .spec.load import describe, pydantic_diagnostics
from .spec.source import Source

if TYPE_CHECKING:
    from .plan import Plan

__all__ = ["PriceTable", "estimate", "load_prices", "price_problems"]


Price = Annotated[float, Strict(), Field(ge=0, allow_inf_nan=False)]


class PriceTable(BaseModel):
    """USD prices. ``per_second[endpoint][resolution]`` overrides ``output_per_second``."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    output_per_second: dict[str, Price] = Field(
        default_factory=lambda: {"480p": 0.05, "720p": 0.07}
    )
    per_second: dict[str, dict[str, Price]] = Field(default_factory=dict)
    image_input: Price = 0.002
    video_input_per_second: Price = 0.01

    def rate(self, endpoint: str, resolution: str) -> float:
        table = self.output_per_second | self.per_second.get(endpoint, {})
        return table.get(resolution, max(table.values(), default=0.0))


def load_prices(
    storyboard: Path, overrides: dict[str, Any] | None = None, config: Config | None = None
) -> PriceTable:
    """Defaults, then the nearest ``grokreel.toml``'s ``[prices]``, then the storyboard's."""
    config = config if config is not None else load_config(storyboard)
    problems = _config_problems(config)
    if problems:
        raise StoryboardError(problems)
    try:
        return PriceTable.model_validate(config.table("prices") | (overrides or {}))
    except ValidationError as exc:  # overrides that skipped the compiler's check
        message = f"`prices` {describe(exc.errors()[0])}"
        raise StoryboardError([Diagnostic(str(storyboard), 1, 1, message)]) from None


def price_problems(source: Source, overrides: Any, config: Config) -> list[Diagnostic]:
    """The prices stage: the storyboard's `prices:` and grokreel.toml's `[prices]`, located."""
    problems = _config_problems(config)
    if overrides is not None:
        try:
            PriceTable.model_validate(overrides)
        except ValidationError as exc:
            problems += pydantic_diagnostics(source, exc, ("prices",), PriceTable)
    return problems


def _config_problems(config: Config) -> list[Diagnostic]:
    table = config.table("prices")
    if not isinstance(table, dict):
        return [config.error("prices", None, "`prices` should be a table: `[prices]`", _HINT)]
    try:
        PriceTable.model_validate(table)
    except ValidationError as exc:
        return [_config_error(config, err) for err in exc.errors()]
    return []


def _config_error(config: Config, err: Any) -> Diagnostic:
    key = str(err["loc"][0]) if err["loc"] else None
    where = ".".join(str(p) for p in err["loc"])
    return config.error("prices", key, f"[prices] `{where}` {describe(err)}", _HINT)


_HINT = "keys: output_per_second, per_second, image_input, video_input_per_second (USD)"


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
