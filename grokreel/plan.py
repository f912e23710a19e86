"""Compile a storyboard into a DAG of jobs, each holding the exact request it will make.

The stages run in order, each on whatever the earlier ones could check: YAML (spec/source.py),
shape (spec/load.py), then names, timing, API ranges, files, templates and prices here. Every
problem is collected and raised together as one StoryboardError, sorted by position. Pure: facts
about input files come from a ``Files`` (spec/files.py); this module imports no media library.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import networkx as nx

from . import api
from .config import Config, load_config
from .cost import price_problems
from .cut.compile import CutCompiler
from .errors import Diagnostic, StoryboardError
from .glyphs import check_glyphs, font_ref
from .job import ASPECTS, Job, JobKind, film_size, nearest_aspect
from .spec.files import Files, project_roots
from .spec.load import Shape, describe, read_source, validate
from .spec.model import MediaRef, Shot, Storyboard
from .spec.prompts import PromptError, compile_references, render_prompt
from .spec.source import Loc, Source

__all__ = ["ASPECTS", "Job", "JobKind", "Plan", "compile_file", "film_size", "nearest_aspect"]

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
_REMOTE = ("http://", "https://", "data:")


@dataclass
class Plan:
    """The compiled storyboard: the job graph plus what the build needs to know about the file."""

    path: Path
    storyboard: Storyboard
    graph: nx.DiGraph
    output: Path
    warnings: list[Diagnostic] = field(default_factory=list)
    final: dict[str, str] = field(default_factory=dict)  # shot name → id of its last job
    remote: list[Diagnostic] = field(default_factory=list)  # each URL input, where it is named
    draft: bool = False  # the draft tier (draft.py): every resolution at 480p
    _order: list[str] | None = field(default=None, init=False, repr=False, compare=False)

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
        if self._order is None or len(self._order) != len(self.graph):
            order = {job_id: i for i, job_id in enumerate(self.graph.nodes)}
            self._order = list(nx.lexicographical_topological_sort(self.graph, key=order.get))
        return [self.job(j) for j in self._order]

    def urgency(self, seconds: Callable[[Job], float]) -> dict[str, float]:
        """Each job's longest chain of work still to come, itself included (its "bottom level"),
        where a job takes ``seconds(job)``: the scheduler runs the most urgent local job first."""
        level: dict[str, float] = {}
        for job_id in reversed(list(nx.topological_sort(self.graph))):
            after = (level[s] for s in self.graph.successors(job_id))
            level[job_id] = seconds(self.job(job_id)) + max(after, default=0.0)
        return level

    def check_backend(self, backend: str) -> None:
        """Refuse, before anything runs, a backend that cannot fetch the storyboard's URL inputs."""
        if backend == "animatic" and self.remote:
            hint = f"the {backend} backend works offline; set FAL_KEY or use `--backend fal`"
            raise StoryboardError(
                [Diagnostic(d.file, d.line, d.column, d.message, hint) for d in self.remote]
            )


def compile_file(path: Path, files: Files | None = None, *, draft: bool = False) -> Plan:
    """Run every stage on ``path``; raise StoryboardError listing every problem at once.

    ``files`` answers questions about input files (tests may pass their own); ``draft`` compiles
    the draft tier (draft.py).
    """
    path = Path(path)
    source, problems = read_source(path)
    board, shape = validate(source)
    if draft and board is not None:
        from .draft import draft_board

        board = draft_board(board, path.stem)
    problems += shape.problems
    config = _config(path, problems)
    roots, config_problems = project_roots(path, config)
    problems += config_problems
    if board is None:
        raise StoryboardError(_sorted(problems, source))
    files = files or Files(path.parent, roots)
    plan = _Compiler(source, board, shape, files, config, problems).compile()
    plan.draft = draft
    return plan


def _config(path: Path, problems: list[Diagnostic]) -> Config:
    try:
        return load_config(path)
    except StoryboardError as exc:
        problems += exc.diagnostics
        return Config()


def _sorted(problems: list[Diagnostic], source: Source) -> list[Diagnostic]:
    """By position; a project file's problems after the storyboard's."""
    return sorted(problems, key=lambda d: (d.file != source.name, d.file, d.line, d.column))


class _Compiler:
    """The names, timing, API ranges, files, templates and prices stages, over one storyboard."""

    def __init__(
        self,
        source: Source,
        board: Storyboard,
        shape: Shape,
        files: Files,
        config: Config,
        problems: list[Diagnostic],
    ):
        self.src, self.board, self.shape, self.files = source, board, shape, files
        self.config = config
        self.base = source.path.parent
        self.problems = problems
        self.remote: list[Diagnostic] = []
        self.graph: nx.DiGraph = nx.DiGraph()
        self.final: dict[str, str] = {}
        self.durations: dict[str, float | None] = {}  # job id → expected output seconds
        self.font: str | None = None  # file:PATH of the storyboard's own font, once checked

    # -- reporting -------------------------------------------------------------------------------
    def error(self, loc: Loc, message: str, hint: str = "", *, key: bool = False) -> None:
        """Report a problem, unless it lies inside a part the shape stage already reported."""
        if not self.shape.covers(loc):
            self.problems.append(self.src.diag(loc, message, hint, key=key))

    def warn(self, loc: Loc, message: str, hint: str = "") -> None:
        if not self.shape.covers(loc):
            self.problems.append(self.src.diag(loc, message, hint, severity="warning"))

    # -- driver ----------------------------------------------------------------------------------
    def compile(self) -> Plan:
        self._check_names()
        self._check_assets()
        order = self._shot_order()
        if order is not None:
            self.font = font_ref(self)
            for name in order:
                self._compile_shot(name, self.board.shots[name])
            CutCompiler(self, self.font).compile()
            check_glyphs(self, self.font)
        self.problems += price_problems(self.src, self.board.prices, self.config)
        if any(d.severity == "error" for d in self.problems):
            raise StoryboardError(_sorted(self.problems, self.src))
        output = self.board.output.path or f"{self.src.path.stem}.mp4"
        return Plan(
            self.src.path,
            self.board,
            self.graph,
            (self.base / output).resolve(),
            _sorted(self.problems, self.src),
            self.final,
            self.remote,
        )

    def _check_names(self) -> None:
        if not self.board.shots and not self.shape.names:
            self.error(("shots",), "the storyboard has no shots", "add `shots:` with at least one")
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
        """Every local asset resolves inside the project and holds what its `kind` says."""
        for name, asset in self.board.assets.items():
            loc: Loc = ("assets", name)
            if asset.url is not None:
                self._remote(loc, f"asset `{name}` is a URL")
                continue
            info = self.files.info(asset.path or "")
            if info.problem:
                self.error(loc, f"asset `{name}`: {info.problem}", info.hint)
            elif info.kind is None:
                self.error(loc, f"asset `{name}`: {_unknown_bytes(asset.path)}", _KINDS_HINT)
            elif asset.kind and asset.kind != info.kind and {asset.kind, info.kind} != _AV:
                said = f"says `kind: {asset.kind}`, but its file is {_a(info.kind)}"
                self.error(loc, f"asset `{name}` {said}", "fix `kind`, or the file")

    def _remote(self, loc: Loc, what: str) -> None:
        """A URL input: fine on fal, impossible offline; noted where it is named."""
        message = f"{what}: only the fal backend can fetch it, the offline animatic backend cannot"
        self.remote.append(self.src.diag(loc, message))
        self.warn(loc, message, "build with FAL_KEY set, or use a local file for drafts")

    def _asset_kind(self, name: str) -> str | None:
        """A local asset's kind by its bytes; a URL's by its declared kind, else its suffix."""
        asset = self.board.assets[name]
        if asset.path is not None:
            return self.files.info(asset.path).kind
        if asset.kind:
            return asset.kind
        return "video" if Path(asset.url or "").suffix.lower() in VIDEO_SUFFIXES else "image"

    # -- shot order and cycles -------------------------------------------------------------------
    def upstream_shots(self, shot: Shot) -> list[tuple[str, Loc]]:
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
            for target, loc in self.upstream_shots(shot):
                if target in self.board.shots:
                    deps.add_edge(target, name)
                else:
                    self.unknown(("shots", name) + loc, "shot", target, list(self.board.shots))
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

    def unknown(self, loc: Loc, what: str, name: str, known: list[str]) -> None:
        """An unknown name, with a suggestion; silent for a name whose definition was broken."""
        if name in self.shape.names:
            return
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
        job = Job(name, job_kind, name, endpoint, normalized, shot.take, duration, tuple(deps))
        self.add(replace(job, font=self.font))  # a draft's text is drawn in it
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
            self.error(loc + where, str(exc), exc.hint)
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
                if self.shape.covers(loc + (key,)):
                    continue  # the shot's own value was broken; a default stood in for it
                shot_loc = (
                    loc + (key,) if self.src.where(loc + (key,)) != self.src.where(loc) else loc
                )
                origin = "" if shot_loc != loc or not key else " (from `defaults`)"
                self.error(
                    shot_loc,
                    f"{endpoint} `{field_name}` {describe(err)}{origin}",
                    "see the ranges in `grokreel help shots`",
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
        job = Job(job_id, "edit", name, "edit-video", normalized, shot.take, duration, (name,))
        self.add(replace(job, font=self.font))
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
        local = value.startswith("file:")
        return value, self.files.seconds(value.removeprefix("file:")) if local else None

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
            self.add(
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
        """An asset, a path or a URL as a request's media value; "" when it cannot be used."""
        if ref.asset or (ref.name and ref.name in self.board.assets):
            return self._asset_media(loc, ref.asset or ref.name or "", want)
        text = ref.url or ref.path or ref.name or ""
        if text.startswith(_REMOTE):
            self._remote(loc, f"`{text[:60]}` is a URL")
            return text
        if ref.name and "/" not in text and "." not in text:  # a bare word: meant as a name
            known = list(self.board.shots) + list(self.board.assets)
            self.unknown(loc, "shot or asset", text, known)
            return ""
        return self.local_file(loc, text, (want,))

    def _asset_media(self, loc: Loc, name: str, want: str) -> str:
        if name not in self.board.assets:
            self.unknown(loc, "asset", name, list(self.board.assets))
            return ""
        asset = self.board.assets[name]
        kind = self._asset_kind(name)
        if kind is not None and kind != want:
            self.error(loc, f"asset `{name}` is {_a(kind)}, not {_a(want)}", f"use {_a(want)} here")
            return ""
        if asset.url is not None:
            return asset.url
        return f"file:{self.files.info(asset.path or '').path}" if kind else ""

    def local_file(self, loc: Loc, text: str, wanted: tuple[str, ...]) -> str:
        """``file:PATH`` for a path inside the project whose bytes are one of ``wanted``."""
        info = self.files.info(text)
        if info.problem:
            self.error(loc, info.problem, info.hint)
            return ""
        if info.kind is None:
            self.error(loc, _unknown_bytes(text), _KINDS_HINT)
            return ""
        if info.kind not in wanted:
            self.error(loc, f"`{text}` is {_a(info.kind)}, not {' or '.join(map(_a, wanted))}")
            return ""
        return f"file:{info.path}"

    def _references(self, loc: Loc, shot: Shot) -> list[str]:
        refs = []
        for i, name in enumerate(shot.references or []):
            if name not in self.board.assets:
                self.unknown(loc + ("references", i), "asset", name, list(self.board.assets))
                continue
            refs.append(self._asset_media(loc + ("references", i), name, "image"))
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

    # -- the cut's compiler uses these ----------------------------------------------------------
    def add(self, job: Job) -> None:
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


_AV = {"video", "audio"}  # a video file is fine as a sound source and an M4A sniffs as video
_KINDS_HINT = "images: PNG, JPEG, WebP, GIF; videos: MP4, MOV, WebM, MKV; sound: MP3, WAV, M4A"


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _unknown_bytes(text: str | None) -> str:
    return f"`{text}` is not an image, video or sound file (by its contents)"
