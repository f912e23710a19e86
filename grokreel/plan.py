"""Compile a storyboard into a DAG of jobs, each holding the exact request it will make.

Pure: reads the storyboard and (for checks) local asset headers; no network, no rendering. Every
problem is collected and raised together as one StoryboardError.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import networkx as nx

from . import api
from .errors import Diagnostic, StoryboardError
from .spec.load import load_source, validate
from .spec.model import MediaRef, Shot, Storyboard
from .spec.prompts import PromptError, compile_references, render_prompt
from .spec.source import Loc, Source

__all__ = ["Job", "JobKind", "Plan", "compile_file", "film_size"]

JobKind = Literal["generate", "edit", "extend", "frame", "normalize", "cut"]
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp"}
VIDEO_SUFFIXES = {".mp4", ".mov", ".webm", ".mkv", ".m4v"}
_ENDPOINT = {
    "text": "text-to-video",
    "image": "image-to-video",
    "references": "reference-to-video",
    "edit": "edit-video",
    "extend": "extend-video",
}
_ACCEPTS = {  # which shot keys each endpoint takes; anything else is an author error
    "text-to-video": {"duration", "resolution", "aspect_ratio"},
    "image-to-video": {"duration", "resolution", "aspect_ratio"},
    "reference-to-video": {"duration", "resolution", "aspect_ratio"},
    "edit-video": {"resolution"},
    "extend-video": {"duration"},
}
_ASPECTS = {
    "16:9": 16 / 9,
    "4:3": 4 / 3,
    "3:2": 3 / 2,
    "1:1": 1.0,
    "2:3": 2 / 3,
    "3:4": 3 / 4,
    "9:16": 9 / 16,
}


@dataclass(frozen=True)
class Job:
    """One node of the build: a request to a backend, a frame grab, or the cut.

    ``request`` is the normalized API input; its media fields hold references: ``job:ID`` (an
    upstream output), ``file:PATH`` (a local file) or a URL.
    """

    id: str
    kind: JobKind
    shot: str | None = None
    endpoint: str | None = None
    request: dict[str, Any] = field(default_factory=dict)
    take: int = 1
    duration: float | None = None
    deps: tuple[str, ...] = ()

    @property
    def endpoint_id(self) -> str | None:
        return api.endpoint_id(self.endpoint) if self.endpoint else None

    @property
    def refs(self) -> list[str]:
        """Every media reference this job's request holds, in order."""
        out: list[str] = []
        for name in sorted(api.FILE_FIELDS | {"source", "clips", "music"}):
            value = self.request.get(name)
            items = value if isinstance(value, list) else [value]
            out += [_ref_of(v) for v in items if _ref_of(v)]
        return out


def _ref_of(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("ref", "")
    return value if isinstance(value, str) else ""


@dataclass
class Plan:
    """The compiled storyboard: the job graph plus what the build needs to know about the file."""

    path: Path
    storyboard: Storyboard
    graph: nx.DiGraph
    output: Path
    warnings: list[Diagnostic] = field(default_factory=list)
    final: dict[str, str] = field(default_factory=dict)  # shot name → id of its last job

    def job(self, job_id: str) -> Job:
        return self.graph.nodes[job_id]["job"]

    def needs(self, job_ids: list[str] | None) -> set[str]:
        """``job_ids`` and every job they depend on (all jobs when None)."""
        if job_ids is None:
            return set(self.graph.nodes)
        wanted = set(job_ids)
        for job_id in job_ids:
            wanted |= nx.ancestors(self.graph, job_id)
        return wanted

    def jobs(self) -> list[Job]:
        """Jobs in a deterministic topological order (file order among independent ones)."""
        order = {job_id: i for i, job_id in enumerate(self.graph.nodes)}
        return [self.job(j) for j in nx.lexicographical_topological_sort(self.graph, key=order.get)]


def film_size(resolution: str, aspect_ratio: str) -> tuple[int, int]:
    """Nominal frame size: the short side is the resolution's lines; both sides even."""
    lines = int(resolution.rstrip("p"))
    ratio = _ASPECTS[aspect_ratio]
    long_side = round(lines * max(ratio, 1 / ratio) / 2) * 2
    return (long_side, lines) if ratio >= 1 else (lines, long_side)


def nearest_aspect(width: int, height: int) -> str:
    return min(_ASPECTS, key=lambda name: abs(_ASPECTS[name] - width / height))


def compile_file(path: Path) -> Plan:
    """Load, validate and compile ``path``; raise StoryboardError listing every problem."""
    source = load_source(path)
    return _Compiler(source, validate(source)).compile()


class _Compiler:
    def __init__(self, source: Source, board: Storyboard):
        self.src, self.board = source, board
        self.base = source.path.parent
        self.problems: list[Diagnostic] = []
        self.graph: nx.DiGraph = nx.DiGraph()
        self.final: dict[str, str] = {}
        self.durations: dict[str, float | None] = {}  # job id → expected output seconds

    # -- reporting -------------------------------------------------------------------------------
    def error(self, loc: Loc, message: str, hint: str = "", *, key: bool = False) -> None:
        self.problems.append(self.src.diag(loc, message, hint, key=key))

    def warn(self, loc: Loc, message: str, hint: str = "") -> None:
        self.problems.append(self.src.diag(loc, message, hint, severity="warning"))

    # -- driver ----------------------------------------------------------------------------------
    def compile(self) -> Plan:
        self._check_names()
        self._check_assets()
        order = self._shot_order()
        if order is not None:
            for name in order:
                self._compile_shot(name, self.board.shots[name])
            self._compile_cut()
        errors = [d for d in self.problems if d.severity == "error"]
        if errors:
            raise StoryboardError(sorted(self.problems, key=lambda d: (d.line, d.column)))
        output = self.board.output.path or f"{self.src.path.stem}.mp4"
        return Plan(
            self.src.path,
            self.board,
            self.graph,
            (self.base / output).resolve(),
            self.problems,
            self.final,
        )

    def _check_names(self) -> None:
        for name in self.board.shots:
            if name in self.board.assets:
                self.error(
                    ("shots", name),
                    f"`{name}` names both a shot and an asset",
                    "rename one of them",
                    key=True,
                )
            if name == "cut":
                self.error(
                    ("shots", name),
                    "`cut` is reserved for the final film",
                    "rename the shot",
                    key=True,
                )

    def _check_assets(self) -> None:
        for name, asset in self.board.assets.items():
            if asset.path is not None and not (self.base / asset.path).is_file():
                self.error(
                    ("assets", name),
                    f"asset `{name}`: file not found: {asset.path}",
                    f"paths are relative to {self.base}; check the spelling",
                )

    def _asset_kind(self, name: str) -> str:
        asset = self.board.assets[name]
        if asset.kind:
            return asset.kind
        suffix = Path(asset.path or asset.url or "").suffix.lower()
        return "video" if suffix in VIDEO_SUFFIXES else "image"

    # -- shot order and cycles -------------------------------------------------------------------
    def _upstream_shots(self, shot: Shot) -> list[tuple[str, Loc]]:
        refs = []
        for key in ("image", "video"):
            ref: MediaRef | None = getattr(shot, key)
            if ref is None:
                continue
            target = ref.shot or (ref.name if ref.name in self.board.shots else None)
            if target:
                refs.append((target, (key,)))
        return refs

    def _shot_order(self) -> list[str] | None:
        deps = nx.DiGraph()
        deps.add_nodes_from(self.board.shots)
        for name, shot in self.board.shots.items():
            for target, loc in self._upstream_shots(shot):
                if target in self.board.shots:
                    deps.add_edge(target, name)
                else:
                    self._unknown(("shots", name) + loc, "shot", target, list(self.board.shots))
        try:
            cycle = nx.find_cycle(deps)
        except nx.NetworkXNoCycle:
            order = {n: i for i, n in enumerate(self.board.shots)}
            return list(nx.lexicographical_topological_sort(deps, key=order.get))
        names = [edge[0] for edge in cycle] + [cycle[0][0]]
        self.error(
            ("shots", names[0]),
            f"shots depend on each other in a cycle: {' → '.join(names)}",
            "a shot cannot use its own output, directly or through other shots",
            key=True,
        )
        return None

    def _unknown(self, loc: Loc, what: str, name: str, known: list[str]) -> None:
        import difflib

        close = difflib.get_close_matches(name, known, n=1)
        hint = (
            f"did you mean `{close[0]}`?"
            if close
            else f"known {what}s: {', '.join(known) or 'none'}"
        )
        self.error(loc, f"unknown {what} `{name}`", hint)

    # -- shots -----------------------------------------------------------------------------------
    def _compile_shot(self, name: str, shot: Shot) -> None:
        loc: Loc = ("shots", name)
        kind = shot.resolved_kind
        endpoint = _ENDPOINT[kind]
        if not self._check_kind_keys(loc, shot, kind):
            return
        prompt = self._prompt(loc, shot, shot.prompt, ("prompt",))
        request: dict[str, Any] = {"prompt": prompt}
        deps: list[str] = []
        source_seconds: float | None = None
        if kind == "image":
            request["image_url"] = self._image_ref(loc + ("image",), shot.image, deps)  # type: ignore[arg-type]
        elif kind == "references":
            request["reference_image_urls"] = self._references(loc, shot)
            request["prompt"] = self._mentions(loc, request["prompt"], shot.references or [])
        elif kind in ("edit", "extend"):
            request["video_url"], source_seconds = self._video_ref(
                loc + ("video",), shot.video, deps
            )  # type: ignore[arg-type]
        request |= self._params(loc, shot, endpoint)
        normalized = self._normalize(loc, endpoint, request)
        if normalized is None:
            return
        duration = self._expected_duration(loc, endpoint, normalized, source_seconds)
        job_kind: Any = {"edit-video": "edit", "extend-video": "extend"}.get(endpoint, "generate")
        self._add(Job(name, job_kind, name, endpoint, normalized, shot.take, duration, tuple(deps)))
        self.final[name] = name
        if shot.edit is not None:
            self._post_edit(name, shot, duration)

    def _check_kind_keys(self, loc: Loc, shot: Shot, kind: str) -> bool:
        ok = True
        wanted = {"image": "image", "references": "references", "edit": "video", "extend": "video"}
        for key in ("image", "references", "video"):
            given = getattr(shot, key) is not None
            if given and wanted.get(kind) != key:
                hint = (
                    "add `kind: edit` or `kind: extend`"
                    if key == "video"
                    else f"a {kind} shot takes no `{key}`"
                )
                self.error(loc + (key,), f"`{key}` does not fit a {kind} shot", hint, key=True)
                ok = False
        if kind in wanted and getattr(shot, wanted[kind]) is None:
            self.error(loc, f"a {kind} shot needs `{wanted[kind]}:`", "name its source")
            ok = False
        endpoint = _ENDPOINT[kind]
        for key in ("duration", "resolution", "aspect_ratio"):
            if getattr(shot, key) is not None and key not in _ACCEPTS[endpoint]:
                self.error(
                    loc + (key,), f"{endpoint} takes no `{key}`", _why_not(endpoint, key), key=True
                )
                ok = False
        return ok

    def _prompt(self, loc: Loc, shot: Shot, template: str, where: Loc) -> str:
        try:
            return render_prompt(template, self.board.vars | shot.vars)
        except PromptError as exc:
            self.error(loc + where, str(exc), "define it under `vars:` (top level or in the shot)")
            return template

    def _params(self, loc: Loc, shot: Shot, endpoint: str) -> dict[str, Any]:
        params: dict[str, Any] = {}
        defaults = self.board.defaults if endpoint not in ("edit-video", "extend-video") else None
        for key in _ACCEPTS[endpoint]:
            value = getattr(shot, key)
            if value is None and defaults is not None:
                value = getattr(defaults, key)
                if value == "auto" or value is None:
                    continue
            if value is not None:
                params[key] = value
        return params

    def _normalize(self, loc: Loc, endpoint: str, request: dict[str, Any]) -> dict[str, Any] | None:
        from pydantic import ValidationError

        placeholder = {
            k: ("x" if isinstance(v, str) else ["x"] * len(v))
            for k, v in request.items()
            if k in api.FILE_FIELDS
        }
        try:
            normalized = api.normalize_input(endpoint, request | placeholder)
        except ValidationError as exc:
            for err in exc.errors():
                field_name = str(err["loc"][0]) if err["loc"] else ""
                key = {
                    "reference_image_urls": "references",
                    "video_url": "video",
                    "image_url": "image",
                }.get(field_name, field_name)
                shot_loc = (
                    loc + (key,) if self.src.where(loc + (key,)) != self.src.where(loc) else loc
                )
                origin = "" if shot_loc != loc or not key else " (from `defaults`)"
                self.error(
                    shot_loc,
                    f"{endpoint} `{field_name}`: {err['msg']}{origin}",
                    "see the ranges in docs/storyboard.md",
                )
            return None
        return normalized | {k: request[k] for k in placeholder}

    def _expected_duration(
        self, loc: Loc, endpoint: str, request: dict[str, Any], source: float | None
    ) -> float | None:
        if endpoint == "edit-video":
            if source is not None and source > api.EDIT_MAX_SOURCE_SECONDS:
                self.warn(
                    loc + ("video",),
                    f"edit source is {source:g} s; edit-video keeps only the "
                    f"first {api.EDIT_MAX_SOURCE_SECONDS:g} s",
                    "trim or split the source shot",
                )
            return None if source is None else min(source, api.EDIT_MAX_SOURCE_SECONDS)
        if endpoint == "extend-video":
            low, high = api.EXTEND_SOURCE_RANGE
            if source is not None and not low <= source <= high:
                self.error(
                    loc + ("video",),
                    f"extend-video needs a source of {low:g}–{high:g} s; this one is {source:g} s",
                    "shorten or lengthen the source shot",
                )
            return None if source is None else source + request["duration"]
        return float(request["duration"])

    def _post_edit(self, name: str, shot: Shot, source_seconds: float | None) -> None:
        loc: Loc = ("shots", name, "edit")
        assert shot.edit is not None
        request: dict[str, Any] = {
            "prompt": self._prompt(loc, shot, shot.edit.prompt, ()),
            "video_url": f"job:{name}",
        }
        if shot.edit.resolution:
            request["resolution"] = shot.edit.resolution
        normalized = self._normalize(loc, "edit-video", request)
        if normalized is None:
            return
        duration = self._expected_duration(loc, "edit-video", normalized, source_seconds)
        job_id = f"{name}.edit"
        self._add(Job(job_id, "edit", name, "edit-video", normalized, shot.take, duration, (name,)))
        self.final[name] = job_id

    # -- media references ------------------------------------------------------------------------
    def _image_ref(self, loc: Loc, ref: MediaRef, deps: list[str]) -> str:
        shot = ref.shot or (ref.name if ref.name in self.board.shots else None)
        if shot:
            return self._frame_of(loc, shot, ref.frame if ref.frame is not None else "last", deps)
        if ref.frame is not None:
            self.error(loc + ("frame",), "`frame` applies to a shot source only", "remove `frame`")
        return self._static_media(loc, ref, "image")

    def _video_ref(self, loc: Loc, ref: MediaRef, deps: list[str]) -> tuple[str, float | None]:
        shot = ref.shot or (ref.name if ref.name in self.board.shots else None)
        if shot:
            upstream = self.final.get(shot, shot)
            deps.append(upstream)
            return f"job:{upstream}", self.durations.get(upstream)
        value = self._static_media(loc, ref, "video")
        return value, self._probe_seconds(value)

    def _frame_of(self, loc: Loc, shot: str, at: str | float, deps: list[str]) -> str:
        upstream = self.final.get(shot, shot)
        seconds = self.durations.get(upstream)
        if isinstance(at, float | int) and seconds is not None and at > seconds:
            self.error(
                loc,
                f"frame at {at:g} s is past the end of shot `{shot}` ({seconds:g} s)",
                "use a time inside the shot, or `frame: last`",
            )
        label = at if isinstance(at, str) else f"{float(at):g}s"
        job_id = f"{shot}@{label}"
        if job_id not in self.graph:
            at_value = at if isinstance(at, str) else float(at)
            self._add(
                Job(
                    job_id,
                    "frame",
                    shot,
                    None,
                    {"source": f"job:{upstream}", "at": at_value},
                    deps=(upstream,),
                )
            )
        deps.append(job_id)
        return f"job:{job_id}"

    def _static_media(self, loc: Loc, ref: MediaRef, want: str) -> str:
        if ref.asset or (ref.name and ref.name in self.board.assets):
            name = ref.asset or ref.name
            if name not in self.board.assets:
                self._unknown(loc, "asset", name, list(self.board.assets))  # type: ignore[arg-type]
                return ""
            if self._asset_kind(name) != want:  # type: ignore[arg-type]
                self.error(loc, f"asset `{name}` is not a {want}", f"use a {want} asset here")
            asset = self.board.assets[name]  # type: ignore[index]
            return asset.url or self._file_ref(asset.path or "")
        text = ref.url or ref.path or ref.name or ""
        if text.startswith(("http://", "https://", "data:")):
            return text
        if ref.name and "/" not in text and "." not in text:  # a bare word: meant as a name
            known = list(self.board.shots) + list(self.board.assets)
            self._unknown(loc, "shot or asset", text, known)
            return ""
        if not (self.base / text).is_file():
            self.error(loc, f"file not found: {text}", f"paths are relative to {self.base}")
            return ""
        return self._file_ref(text)

    def _file_ref(self, relative: str) -> str:
        return f"file:{(self.base / relative).resolve()}"

    def _probe_seconds(self, value: str) -> float | None:
        if not value.startswith("file:"):
            return None
        from .media.probe import probe

        try:
            return probe(Path(value.removeprefix("file:"))).duration
        except Exception:
            return None

    def _references(self, loc: Loc, shot: Shot) -> list[str]:
        refs = []
        for i, name in enumerate(shot.references or []):
            if name not in self.board.assets:
                self._unknown(loc + ("references", i), "asset", name, list(self.board.assets))
                continue
            if self._asset_kind(name) != "image":
                self.error(loc + ("references", i), f"reference `{name}` is not an image asset")
            refs.append(self._static_media(loc + ("references", i), MediaRef(asset=name), "image"))
        return refs

    def _mentions(self, loc: Loc, prompt: str, names: list[str]) -> str:
        compiled, unknown = compile_references(prompt, names)
        for name in unknown:
            self.error(
                loc + ("prompt",),
                f"the prompt mentions `@{name}`, which is not in `references`",
                f"add `{name}` to references, or use one of: " + ", ".join(f"@{n}" for n in names),
            )
        return compiled

    # -- the cut ---------------------------------------------------------------------------------
    def _compile_cut(self) -> None:
        from .cut.compile import CutCompiler

        CutCompiler(self).compile()

    def _add(self, job: Job) -> None:
        self.graph.add_node(job.id, job=job)
        for dep in job.deps:
            self.graph.add_edge(dep, job.id)
        self.durations[job.id] = job.duration if job.kind != "frame" else None


def _why_not(endpoint: str, key: str) -> str:
    if endpoint == "edit-video":
        return "an edit keeps its source's length and framing (up to 8 s); remove it"
    if key == "duration":
        return "remove it"
    return "an extension keeps its source's format; remove it"
