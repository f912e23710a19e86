"""The draft tier: the same storyboard rendered at 480p, to look at before paying for the final.

A draft is the storyboard with every resolution lowered to ``DRAFT_RESOLUTION`` (shots, defaults,
post-edits and the film), compiled like any other: its requests differ from the final's wherever
the final asks for more, so the cache keeps both side by side; a shot already at 480p is the same
request and shares its render (nothing is paid twice). A draft film goes to ``NAME.draft.mp4``,
remembers its last build in a state file of its own and never writes the lock file, which pins
only finals.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from .spec.model import Storyboard

if TYPE_CHECKING:
    from .build import Project

__all__ = ["DRAFT_RESOLUTION", "Saving", "draft_board", "draft_output", "saving"]

DRAFT_RESOLUTION = "480p"


def draft_board(board: Storyboard, stem: str) -> Storyboard:
    """``board`` with every resolution at the draft's and its film at ``NAME.draft.mp4``."""
    low = {"resolution": DRAFT_RESOLUTION}
    shots = {}
    for name, shot in board.shots.items():  # only keys the author set: an unset key stays unset
        edit = shot.edit
        if edit is not None and edit.resolution not in (None, "auto"):
            edit = edit.model_copy(update=low)
        lowered = low if shot.resolution not in (None, "auto") else {}
        shots[name] = shot.model_copy(update={"edit": edit} | lowered)
    output = board.output.model_copy(
        update=low | {"path": draft_output(board.output.path or f"{stem}.mp4")}
    )
    return board.model_copy(
        update={"shots": shots, "output": output, "defaults": board.defaults.model_copy(update=low)}
    )


def draft_output(path: str) -> str:
    """``films/knight.mp4`` → ``films/knight.draft.mp4``."""
    pure = PurePosixPath(path)
    return str(pure.with_name(f"{pure.stem}.draft{pure.suffix or '.mp4'}"))


@dataclass(frozen=True)
class Saving:
    """What the draft's renders cost against the final's (estimates, USD)."""

    draft: float
    final: float

    def __str__(self) -> str:
        saved = self.final - self.draft
        return (
            f"draft: estimated ${self.draft:.2f} on the API against ${self.final:.2f} "
            f"for the final (saves ${saved:.2f})"
        )


def saving(draft: Project) -> Saving:
    """The whole film's API price as this draft and as the final (cache aside: the list price)."""
    from .cost import estimate
    from .plan import compile_file

    final = compile_file(Path(draft.plan.path))
    return Saving(_price(draft.plan, draft.prices, estimate), _price(final, draft.prices, estimate))


def _price(plan: Any, prices: Any, estimate: Any) -> float:
    return round(sum(estimate(plan, job, prices) for job in plan.jobs() if job.endpoint), 4)
