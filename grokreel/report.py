"""Reporters: the stable JSON summaries scripts depend on, and the human-readable console lines."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any, TextIO

from .build import BuildResult
from .errors import Diagnostic, GrokreelError, StoryboardError
from .plan import Job, Plan
from .state import NodeStatus

if TYPE_CHECKING:  # `plan` prints its table without importing the runner (and asyncio)
    from .execute import Outcome

__all__ = [
    "JSON_VERSION",
    "ConsoleListener",
    "build_json",
    "build_summary",
    "error_json",
    "plan_json",
    "plan_table",
]

JSON_VERSION = 2  # of the --json summaries; 2: "version", "cost" objects, {"error": …}


def _duration(job: Job, record: dict[str, Any] | None = None) -> float | None:
    video = (record or {}).get("video") or {}
    return video.get("duration", job.duration)


def _cost(estimated: float, actual: float | None = None) -> dict[str, float | None]:
    """Every cost in a summary, spelled the same way: USD estimated and (when known) actual."""
    return {"estimated": round(estimated, 4), "actual": actual}


def _spent(outcome: Outcome) -> dict[str, float | None]:
    if outcome.status != "rendered":
        return _cost(0.0)
    return _cost(outcome.record.get("cost") or 0.0, outcome.record.get("actual_cost"))


def build_summary(result: BuildResult) -> str:
    """The line a build ends with, in the CLI and in watch: counts, spend, the film."""
    actual = f", actual ${result.actual_cost:.2f}" if result.actual_cost is not None else ""
    film = f"; film: {result.output}" if result.output else ""
    return (
        f"{result.count('rendered')} rendered, {result.count('cached')} cached, "
        f"{result.count('failed')} failed, {result.count('skipped')} skipped; "
        f"spend: estimated ${result.estimated_cost:.2f}{actual}{film}"
    )


def build_json(result: BuildResult) -> dict[str, Any]:
    """`build --json`: names are a stable interface."""
    nodes = [
        {
            "id": o.job.id,
            "kind": o.job.kind,
            "endpoint": o.job.endpoint_id,
            "status": o.status,
            "key": o.key,
            "output_sha256": o.output,
            "duration": _duration(o.job, o.record),
            "cost": _spent(o),
            **({"error": o.error} if o.error else {}),
        }
        for o in result.outcomes.values()
    ]
    return {
        "version": JSON_VERSION,
        "output": str(result.output) if result.output else None,
        "rendered": result.count("rendered"),
        "cached": result.count("cached"),
        "failed": result.count("failed"),
        "skipped": result.count("skipped"),
        "cost": _cost(result.estimated_cost, result.actual_cost),
        "warnings": result.warnings,
        "nodes": nodes,
    }


def plan_json(plan: Plan, statuses: list[NodeStatus], backend: str) -> dict[str, Any]:
    """`plan --json`: names are a stable interface."""
    nodes = [
        {
            "id": s.job.id,
            "kind": s.job.kind,
            "endpoint": s.job.endpoint_id,
            "status": s.status,
            "reasons": s.reasons,
            "key": s.key,
            "duration": s.job.duration,
            "cost": _cost(s.cost),
        }
        for s in statuses
    ]
    total = round(sum(s.cost for s in statuses), 4)
    return {
        "version": JSON_VERSION,
        "storyboard": str(plan.path),
        "backend": backend,
        "output": str(plan.output),
        "cost": _cost(total),
        "total_cost": total,  # README documents it; the same as cost.estimated
        "warnings": [str(w) for w in plan.warnings],
        "nodes": nodes,
    }


def error_json(exc: BaseException, message: str | None = None) -> dict[str, Any]:
    """`--json` when a command fails: the message and, where known, its file and position."""
    if isinstance(exc, StoryboardError):
        diags = [_diagnostic(d) for d in exc.diagnostics]
        first = next((d for d in diags if d["severity"] == "error"), diags[0])
        where = {k: first[k] for k in ("file", "line", "column")}
        return _error(str(exc), type(exc).__name__, **where, diagnostics=diags)
    path = getattr(exc, "path", None) or getattr(exc, "filename", None)
    kind = type(exc).__name__ if isinstance(exc, GrokreelError | OSError) else "InternalError"
    return _error(message or str(exc), kind, file=str(path) if path else None)


def _error(message: str, kind: str, **fields: Any) -> dict[str, Any]:
    where = {"file": None, "line": None, "column": None}
    return {"version": JSON_VERSION, "error": {"message": message, "type": kind, **where, **fields}}


def _diagnostic(d: Diagnostic) -> dict[str, Any]:
    keys = ("file", "line", "column", "message", "hint", "severity")
    return {k: getattr(d, k) for k in keys}


def plan_table(statuses: list[NodeStatus], out: TextIO, backend: str = "fal") -> None:
    """One line per node: status, id, endpoint, estimated cost of a miss, and why."""
    width = max(len(s.job.id) for s in statuses)
    for s in statuses:
        what = s.job.endpoint or s.job.kind
        cost = f"${s.cost:6.2f}" if s.cost else " " * 7
        why = f"  ({'; '.join(s.reasons)})" if s.reasons else ""
        out.write(f"  {s.status:<7} {s.job.id:<{width}}  {cost}  {what}{why}\n")
    todo = sum(1 for s in statuses if s.status in ("new", "stale"))
    fetch = sum(1 for s in statuses if s.status == "fetch")
    total = sum(s.cost for s in statuses)
    free = (
        " (free on the animatic backend; the fal price is shown)" if backend == "animatic" else ""
    )
    fetched = f", {fetch} locked take(s) to fetch ($0)" if fetch else ""
    shared = sum(1 for s in statuses if s.status == "remote")
    fetched += f", {shared} to pull from the remote cache ($0)" if shared else ""
    out.write(
        f"{todo} of {len(statuses)} node(s) to run{fetched}; estimated cost ${total:.2f}{free}\n"
    )


def why_text(status: NodeStatus, plan: Plan) -> str:
    """`grokreel why`: one node in full — request, inputs, key, status and every reason."""
    import json

    job = status.job
    lines = [
        f"{job.id}: {status.status}",
        f"  kind:      {job.kind}",
        f"  endpoint:  {job.endpoint_id or '(local)'}",
        f"  key:       {status.key or '(needs upstream outputs)'}",
        f"  needs:     {', '.join(job.deps) or 'nothing'}",
        f"  feeds:     {', '.join(plan.graph.successors(job.id)) or 'nothing'}",
        f"  est. cost: ${status.cost:.2f}",
        "  request:",
    ]
    lines += [f"    {line}" for line in json.dumps(job.request, indent=2).splitlines()]
    lines.append("  reasons:" if status.reasons else "  reasons:   none (cached)")
    lines += [f"    - {reason}" for reason in status.reasons]
    return "\n".join(lines)


class ConsoleListener:
    """Plain progress lines (one per state change), for terminals and CI logs alike."""

    def __init__(self, out: TextIO = sys.stderr, total: int = 0):
        self.out, self.total, self.done = out, total, 0
        self.start = time.monotonic()

    def __call__(self, event: Outcome | tuple[Job, str]) -> None:
        if isinstance(event, tuple):
            job, state = event
            if state == "started":
                self._line(f"… {job.id}: {job.endpoint or job.kind}")
            return
        self.done += 1
        detail = f" ({event.seconds:.1f} s)" if event.status == "rendered" else ""
        if event.error:
            detail = f": {event.error}"
        self._line(f"[{self.done}/{self.total}] {event.status} {event.job.id}{detail}")

    def _line(self, text: str) -> None:
        self.out.write(f"{time.monotonic() - self.start:6.1f}s {text}\n")
        self.out.flush()
