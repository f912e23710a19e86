"""The `grokreel` command line. Errors become messages in one place: see `edge.py`."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import Any

import click

from .edge import EdgeGroup, interrupt_told, remember
from .startup import importing

storyboard_arg = click.argument(
    "storyboard", type=click.Path(path_type=Path), callback=remember("storyboard")
)
cache_opt = click.option(
    "--cache-dir",
    type=click.Path(path_type=Path),
    callback=remember("cache_dir"),
    help="Cache folder (default: .grokreel next to the storyboard, or $GROKREEL_CACHE_DIR).",
)
backend_opt = click.option(
    "--backend",
    type=click.Choice(["animatic", "fal"]),
    help="Render backend (default: fal when FAL_KEY is set, else animatic).",
)


def _remember_remote(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    if value:
        ctx.meta[f"grokreel.{param.name}"] = value
    return value


def remote_opts(command: Any) -> Any:
    """--remote URL / --no-remote, read by ``_remote()`` where the command opens its project."""
    command = click.option(
        "--no-remote",
        "offline",
        is_flag=True,
        expose_value=False,
        callback=_remember_remote,
        help="Work offline: ignore the remote cache configured anywhere.",
    )(command)
    return click.option(
        "--remote",
        metavar="URL",
        expose_value=False,
        callback=_remember_remote,
        help="Remote cache, s3://bucket/prefix (default: $GROKREEL_REMOTE, then "
        "[cache] remote in grokreel.toml). Credentials come from the AWS environment.",
    )(command)


def _remote() -> dict[str, Any]:
    meta = click.get_current_context().meta
    return {"remote": meta.get("grokreel.remote"), "offline": bool(meta.get("grokreel.offline"))}


draft_opt = click.option(
    "--draft",
    is_flag=True,
    help="The draft tier: every shot at 480p, film to NAME.draft.mp4, cached beside the finals.",
)
json_opt = click.option(
    "--json",
    "as_json",
    is_flag=True,
    callback=remember("json"),
    help='Print a JSON summary on stdout (an error as {"error": …}).',
)


@click.group(cls=EdgeGroup)
@click.version_option(package_name="grokreel")
def main() -> None:
    """grokreel: make for AI films. Storyboards in YAML, rendered with Grok Imagine Video."""


@main.command()
@storyboard_arg
def validate(storyboard: Path) -> None:
    """Check a storyboard and report every problem with FILE:LINE:COL."""
    with importing():
        from .plan import compile_file

    plan = compile_file(storyboard)
    for warning in plan.warnings:
        click.echo(str(warning), err=True)
    shots = len(plan.final)
    click.echo(f"{storyboard}: ok ({shots} shot(s), {plan.graph.number_of_nodes()} job(s))")


@main.command()
@storyboard_arg
@cache_opt
@remote_opts
@backend_opt
@draft_opt
@json_opt
def plan(
    storyboard: Path, cache_dir: Path | None, backend: str | None, draft: bool, as_json: bool
) -> None:
    """Show what a build would do, node by node, and why."""
    with importing():
        from .build import open_project
        from .draft import saving
        from .report import plan_json, plan_table

    project = open_project(
        storyboard, cache_dir=cache_dir, backend=backend, draft=draft, **_remote()
    )
    project.plan.check_backend(project.backend)
    statuses = project.status()
    saved = saving(project) if draft else None
    if as_json:
        data = plan_json(project.plan, statuses, project.backend)
        if saved:
            data["draft"] = {"estimated": saved.draft, "final_estimated": saved.final}
        click.echo(json.dumps(data, indent=2))
        return
    if saved:
        click.echo(str(saved), err=True)
    for warning in project.plan.warnings:
        click.echo(str(warning), err=True)
    click.echo(f"plan for {storyboard} on the {project.backend} backend:")
    plan_table(statuses, sys.stdout, project.backend)


@main.command()
@storyboard_arg
@click.argument("shots", nargs=-1)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(1, 64),
    help="How many local jobs (frames, normalizing, the cut, animatic drafts) may run at once "
    "[default: the CPU count].",
)
@click.option(
    "--max-in-flight",
    type=click.IntRange(1, 256),
    help="How many paid API jobs may be in flight at once "
    "[default: grokreel.toml's [fal] max_in_flight, else 32].",
)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Where to write the film.")
@click.option("-n", "--dry-run", is_flag=True, help="Show the plan; render nothing.")
@click.option(
    "-k",
    "--keep-going",
    is_flag=True,
    help="After a failure, finish every job that does not depend on it.",
)
@click.option(
    "--force",
    "force",
    multiple=True,
    metavar="SHOT",
    help="Render SHOT again (a new take) and everything downstream. Repeatable.",
)
@click.option(
    "--locked",
    is_flag=True,
    help="Fail before any paid call if anything would have to be rendered.",
)
@click.option(
    "--max-cost",
    type=click.FloatRange(min=0),
    metavar="USD",
    help="Refuse to start over this estimate; never submit past it.",
)
@click.option("--no-review", is_flag=True, help="Do not write the review page (FILE.review/).")
@cache_opt
@remote_opts
@backend_opt
@draft_opt
@json_opt
def build(
    storyboard: Path,
    shots: tuple[str, ...],
    jobs: int | None,
    max_in_flight: int | None,
    output: Path | None,
    dry_run: bool,
    keep_going: bool,
    force: tuple[str, ...],
    locked: bool,
    max_cost: float | None,
    no_review: bool,
    cache_dir: Path | None,
    backend: str | None,
    draft: bool,
    as_json: bool,
) -> None:
    """Render what changed and assemble the film. With SHOTS, render just those (no cut)."""
    with importing():
        from .build import open_project
        from .errors import BuildFailed
        from .progress import progress_listener
        from .report import build_json, build_summary

    project = open_project(
        storyboard, cache_dir=cache_dir, backend=backend, draft=draft, **_remote()
    )
    project.plan.check_backend(project.backend)
    for warning in project.plan.warnings:
        click.echo(str(warning), err=True)
    if dry_run:
        _dry_run(project, list(shots), output, list(force), locked, max_cost, as_json)
        return
    before = project.status(list(force))
    wanted = project.plan.needs(project.target_jobs(list(shots) or None))
    spend = sum(s.cost for s in before if s.job.id in wanted)
    spend = spend if project.backend != "animatic" else 0.0
    listener = progress_listener(project.plan, shots, estimate=spend)
    _terminate_like_ctrl_c()
    try:
        result = project.build(
            jobs=jobs,
            max_in_flight=max_in_flight,
            targets=list(shots) or None,
            output=output,
            listener=listener,
            keep_going=keep_going,
            force=list(force),
            locked=locked,
            max_cost=max_cost,
        )
    except KeyboardInterrupt:
        said = getattr(listener, "interrupted", None)
        if said is not None:  # the live view says what was kept and how to resume
            said()
            interrupt_told()
        raise
    if not no_review:
        from .review import review_after_build

        page = review_after_build(project, before, result)
        if page is not None:
            click.echo(f"review: {page}", err=True)
    if as_json:
        click.echo(json.dumps(build_json(result), indent=2))
        click.get_current_context().meta["grokreel.json_printed"] = True
    for note in result.warnings[len(project.plan.warnings) :]:
        click.echo(f"warning: {note}", err=True)
    click.echo(build_summary(result), err=True)
    if not result.ok:
        raise BuildFailed(
            {o.job.id: o.error or "" for o in result.outcomes.values() if o.status == "failed"}
        )


@main.command()
@storyboard_arg
@cache_opt
@backend_opt
def review(storyboard: Path, cache_dir: Path | None, backend: str | None) -> None:
    """Write FILE.review/index.html: every shot with its prompts, status, costs and takes."""
    with importing():
        from .build import open_project
        from .review import write_review

    project = open_project(storyboard, cache_dir=cache_dir, backend=backend)
    click.echo(write_review(project))


@main.command()
@storyboard_arg
@click.option("--final", is_flag=True, help="Build finals, not drafts (drafts are the default).")
@click.option(
    "--max-cost",
    type=click.FloatRange(min=0),
    metavar="USD",
    help="The ceiling of each rebuild; required on the fal backend.",
)
@click.option("-j", "--jobs", default=2, show_default=True, type=click.IntRange(1, 64))
@cache_opt
@backend_opt
def watch(
    storyboard: Path,
    final: bool,
    max_cost: float | None,
    jobs: int,
    cache_dir: Path | None,
    backend: str | None,
) -> None:
    """Rebuild on every save of FILE, its assets or grokreel.toml; Ctrl-C to stop."""
    with importing():
        from .backends import default_backend
        from .watch import Watcher, WatchOptions

    options = WatchOptions(backend or default_backend(), not final, max_cost, cache_dir, jobs)
    _terminate_like_ctrl_c()  # the build under way is cancelled cleanly, in this process
    Watcher(storyboard, options, sys.stderr).run()


def _terminate_like_ctrl_c() -> None:
    """SIGTERM (a CI runner's stop, `kill`) ends a build as Ctrl-C does: queued requests are
    cancelled, running ones stay journaled, and the exit status is 130."""
    signal.signal(signal.SIGTERM, lambda *_: signal.raise_signal(signal.SIGINT))


def _dry_run(
    project: Any,
    shots: list[str],
    output: Path | None,
    force: list[str],
    locked: bool,
    max_cost: float | None,
    as_json: bool,
) -> None:
    """Show what `build` would do, then refuse exactly as the real build would (exit 1)."""
    from .errors import PlanError
    from .report import error_json, plan_json, plan_table

    statuses = project.status(force)
    wanted = project.plan.needs(project.target_jobs(shots or None))
    statuses = [s for s in statuses if s.job.id in wanted]
    refusal = None
    try:
        project.check(targets=shots, output=output, force=force, locked=locked, max_cost=max_cost)
    except PlanError as exc:
        refusal = PlanError(f"dry run: the build would refuse: {exc}")
    if as_json:
        data = plan_json(project.plan, statuses, project.backend)
        data |= {"error": error_json(refusal)["error"]} if refusal else {}
        click.echo(json.dumps(data, indent=2))
        click.get_current_context().meta["grokreel.json_printed"] = True
    else:
        plan_table(statuses, sys.stdout, project.backend)
    if refusal:
        raise refusal


@main.command()
@storyboard_arg
@click.argument("shot")
@cache_opt
@remote_opts
@backend_opt
def why(storyboard: Path, shot: str, cache_dir: Path | None, backend: str | None) -> None:
    """Explain one node in full: its request, inputs, key, and why it would run."""
    with importing():
        from .build import open_project
        from .errors import PlanError
        from .report import why_text

    project = open_project(storyboard, cache_dir=cache_dir, backend=backend, **_remote())
    statuses = {s.job.id: s for s in project.status()}
    job_id = project.plan.final.get(shot, shot)
    ids = (
        [job_id]
        if shot not in project.plan.final
        else sorted((s for s in statuses if statuses[s].job.shot == shot), key=list(statuses).index)
    )
    if job_id not in statuses:
        raise PlanError(f"no shot or job named `{shot}`; jobs: {', '.join(statuses)}")
    click.echo("\n\n".join(why_text(statuses[i], project.plan) for i in ids))


@main.command()
@click.argument(
    "files",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    callback=remember("files"),
)
@click.option(
    "--older-than",
    default=7.0,
    show_default=True,
    type=click.FloatRange(min=0),
    metavar="DAYS",
    help="Only objects untouched for this many days.",
)
@click.option("--remove", is_flag=True, help="Delete them (default: only list).")
@click.option(
    "--remote",
    "in_remote",
    is_flag=True,
    help="Collect in the remote cache ($GROKREEL_REMOTE or [cache] remote) instead.",
)
@cache_opt
def gc(
    files: tuple[Path, ...],
    older_than: float,
    remove: bool,
    in_remote: bool,
    cache_dir: Path | None,
) -> None:
    """List (or --remove) cached objects that no storyboard or lock file beside FILES uses, and
    the review page's thumbnails of clips no longer cached."""
    import os

    from .cache import gc as collect
    from .cache.store import Store

    boards, locks, notes = collect.siblings(list(files))
    for note in notes:
        click.echo(f"warning: {note}", err=True)
    default = files[0].resolve().parent / ".grokreel"
    store = Store(cache_dir or Path(os.environ.get("GROKREEL_CACHE_DIR") or default))
    keep = collect.referenced(store, boards, locks)
    shared = _gc_remote(files[0]) if in_remote else None
    thumbs: list[collect.Garbage] = []  # the remote cache holds no thumbnails
    if shared is not None:
        garbage = collect.find_remote_garbage(shared, keep, older_than)
    else:
        garbage = collect.find_garbage(store, keep, older_than)
        thumbs = collect.find_thumbnails(store, garbage)
    for item in garbage:
        click.echo(collect.summary_line(item))
    total = sum(g.size for g in garbage) / 1e6
    if remove and shared is not None:
        collect.remove_remote_garbage(shared, garbage)
    elif remove:
        collect.remove_garbage(store, garbage)
        collect.remove_thumbnails(thumbs)
    verb = "removed" if remove else "collectable (use --remove)"
    click.echo(f"{len(garbage)} object(s), {total:.2f} MB {verb}", err=True)
    if thumbs:
        freed = sum(t.size for t in thumbs) / 1e6
        click.echo(f"{len(thumbs)} thumbnail(s) of uncached clips, {freed:.2f} MB {verb}", err=True)


def _gc_remote(file: Path) -> Any:
    """The configured remote cache, reachable, for `gc --remote`."""
    from .cache.remote import open_remote, remote_url
    from .errors import PlanError

    url = remote_url(file)
    if url is None:
        raise PlanError("gc --remote: no remote cache is configured (GROKREEL_REMOTE or [cache])")
    shared = open_remote(url)
    shared.check()
    return shared


@main.command()
@storyboard_arg
@click.option(
    "--otio",
    "otio_path",
    required=True,
    type=click.Path(path_type=Path),
    help="Write the built cut as an OpenTimelineIO timeline (.otio).",
)
@click.option(
    "--media-dir",
    type=click.Path(path_type=Path),
    help="Where to copy the clips the timeline uses (default: OUT_media beside it).",
)
@cache_opt
@remote_opts
@backend_opt
def export(
    storyboard: Path,
    otio_path: Path,
    media_dir: Path | None,
    cache_dir: Path | None,
    backend: str | None,
) -> None:
    """Export the built cut for an editor (Resolve, Premiere…) as OpenTimelineIO, with its media."""
    with importing():
        from .build import open_project
        from .cut.otio import check_destination, export_otio, media_dir_for

    check_destination(otio_path)
    project = open_project(storyboard, cache_dir=cache_dir, backend=backend, **_remote())
    timeline = export_otio(project, otio_path, media_dir)
    clips = sum(len(track.find_clips()) for track in timeline.tracks)
    media = media_dir or media_dir_for(otio_path)
    click.echo(
        f"{otio_path}: {clips} clip(s) on {len(timeline.tracks)} track(s); media in {media}",
        err=True,
    )


@main.command()
@storyboard_arg
@click.option(
    "--format", "fmt", type=click.Choice(["dot", "mermaid"]), default="dot", show_default=True
)
def graph(storyboard: Path, fmt: str) -> None:
    """Print the job graph as Graphviz DOT or Mermaid."""
    with importing():
        from .plan import compile_file

    plan = compile_file(storyboard)
    click.echo(_mermaid(plan) if fmt == "mermaid" else _dot(plan))


def _label(job: Any) -> str:
    return f"{job.id}\\n{job.endpoint or job.kind}"


def _dot(plan: Any) -> str:
    lines = ["digraph grokreel {", "  rankdir=LR;", "  node [shape=box];"]
    lines += [f'  "{job.id}" [label="{_label(job)}"];' for job in plan.jobs()]
    lines += [f'  "{a}" -> "{b}";' for a, b in plan.graph.edges]
    return "\n".join(lines + ["}"])


def _mermaid(plan: Any) -> str:
    ids = {job.id: f"n{i}" for i, job in enumerate(plan.jobs())}
    lines = ["flowchart LR"]
    lines += [f'  {ids[job.id]}["{job.id}<br/>{job.endpoint or job.kind}"]' for job in plan.jobs()]
    lines += [f"  {ids[a]} --> {ids[b]}" for a, b in plan.graph.edges]
    return "\n".join(lines)


@main.command()
@click.argument("folder", default=".", type=click.Path(file_okay=False, path_type=Path))
def init(folder: Path) -> None:
    """Start a project in FOLDER: a storyboard with one shot of each kind, assets, grokreel.toml."""
    from .init import init_project

    for path in init_project(folder):
        click.echo(f"  wrote {path}", err=True)
    board = folder / "storyboard.yaml"
    click.echo(f"next: grokreel build {board}   (offline, free; then open the review page)")


@main.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the schema to this file (e.g. beside your storyboards) instead of printing it.",
)
def schema(output: Path | None) -> None:
    """Print the storyboard's JSON Schema, for editors (yaml-language-server, VS Code)."""
    from .cache.store import atomic_write_text
    from .schema import dumps

    if output is None:
        click.echo(dumps(), nl=False)
        return
    atomic_write_text(output, dumps())
    click.echo(f"{output}: first line of a storyboard: # yaml-language-server: $schema={output}")


@main.command("help")
@click.argument("topic", required=False)
def help_(topic: str | None) -> None:
    """Print the storyboard reference, or one TOPIC: keys, shots, files, cut, checks, jobs."""
    from .errors import GrokreelError
    from .help import show

    try:
        click.echo(show(topic))
    except GrokreelError as exc:
        raise click.BadParameter(str(exc), param_hint="TOPIC") from None
