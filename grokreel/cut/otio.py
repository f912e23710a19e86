"""Export the built cut as an OpenTimelineIO timeline, so an editor can finish the film elsewhere.

The timeline mirrors what grokreel assembled: one video track whose clips reference the rendered
shots (trimmed as in the cut, measured lengths), dissolves for crossfades, fades as clip effects,
title cards as clips of their rendered card, captions as markers, and the music bed on an audio
track. Each clip's metadata carries what made it: prompt, cache key, request id, cost.

The media are copied out of the cache, which an editor cannot relink and `gc` may empty, into a
folder beside the timeline (``cut.otio`` → ``cut_media/dawn.mp4``) and referenced relatively, so
the timeline and its folder can be moved or shared together.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import opentimelineio as otio

from ..errors import PathError, PlanError

if TYPE_CHECKING:
    from ..build import Project
    from ..plan import Job

__all__ = ["SUFFIXES", "export_otio", "media_dir_for"]

RT, TR = otio.opentime.RationalTime, otio.opentime.TimeRange
SUFFIXES = (".otio",)


def media_dir_for(dest: Path) -> Path:
    """The default media folder of a timeline: ``cut.otio`` → ``cut_media`` beside it."""
    return dest.with_name(f"{dest.stem}_media")


def check_destination(dest: Path) -> None:
    """Refuse, before any work, a timeline path that cannot be written."""
    if dest.suffix.lower() not in SUFFIXES:
        raise PathError(
            dest,
            f"grokreel cannot write `{dest.suffix or 'no suffix'}` timelines; "
            f"use one of {', '.join(SUFFIXES)} (OpenTimelineIO, which Resolve and Premiere import)",
        )
    if dest.is_dir():
        raise PathError(dest, "is a folder; give the timeline a file name such as cut.otio")
    if not dest.parent.is_dir():
        raise PathError(dest, f"the folder {dest.parent} does not exist")


class _Media:
    """Copies of the cut's media in one folder by readable name, referenced relative to ``base``."""

    def __init__(self, folder: Path, base: Path):
        self.folder, self.base = folder, base

    def url(self, source: Path, name: str) -> str:
        """Copy ``source`` in as ``name`` (unless identical) and return its relative reference."""
        stem = re.sub(r"[^\w.-]+", "_", name)
        target = self.folder / f"{stem}{source.suffix or '.mp4'}"
        if not (target.is_file() and target.stat().st_size == source.stat().st_size):
            self.folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        return Path(os.path.relpath(target.resolve(), self.base.resolve())).as_posix()


def export_otio(
    project: Project, dest: Path, media_dir: Path | None = None
) -> otio.schema.Timeline:
    """Write the cut of ``project`` (which must be built) to ``dest`` with its media; return it."""
    check_destination(dest)
    media = _Media(media_dir or media_dir_for(dest), dest.parent)
    records = _records(project)
    plan, fps = project.plan, project.plan.job("cut").request["format"]["fps"]
    cut = plan.job("cut").request
    timeline = otio.schema.Timeline(
        name=plan.storyboard.title or plan.path.stem, global_start_time=RT(0, fps)
    )
    timeline.metadata["grokreel"] = {
        "storyboard": str(plan.path),
        "backend": project.backend,
        "format": cut["format"],
        "key": records["cut"]["key"],
    }
    timeline.tracks.append(_video_track(project, records, fps, media))
    if cut.get("music"):
        timeline.tracks.append(_music_track(cut["music"], records["cut"], fps, media))
    otio.adapters.write_to_file(timeline, str(dest))
    return timeline


def _records(project: Project) -> dict[str, dict[str, Any]]:
    """The cache record of every job the cut needs; refuse when the film is not built."""
    statuses = {s.job.id: s for s in project.status()}
    needed = project.plan.needs(["cut"])
    missing = [job_id for job_id in needed if statuses[job_id].status != "cached"]
    if missing:
        raise PlanError(
            f"the cut is not built yet ({', '.join(sorted(missing))} missing); "
            f"run `grokreel build {project.plan.path}` first"
        )
    return {job_id: project.store.get_action(statuses[job_id].key) or {} for job_id in needed}


def _video_track(
    project: Project, records: dict[str, dict[str, Any]], fps: int, media: _Media
) -> otio.schema.Track:
    track = otio.schema.Track(name="Video", kind=otio.schema.TrackKind.Video)
    entries = project.plan.job("cut").request["clips"]
    clips = [_clip(project, records, entry, fps, media) for entry in entries]
    for i, (entry, clip) in enumerate(zip(entries, clips, strict=True)):
        t = entry.get("transition") or {}
        if i and t.get("type") == "crossfade":
            half = RT(t["duration"] * fps / 2, fps)
            _shorten(clips[i - 1], tail=half)
            _shorten(clip, head=half)
            track.append(
                otio.schema.Transition(
                    name="crossfade",
                    transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve,
                    in_offset=half,
                    out_offset=half,
                )
            )
        elif t.get("type") == "fade":
            seconds = t["duration"] if i == 0 else t["duration"] / 2
            clip.effects.append(_fade("fade in", seconds))
            if i:
                clips[i - 1].effects.append(_fade("fade out", seconds))
        if entry.get("fade_out"):
            clip.effects.append(_fade("fade out", entry["fade_out"]))
        track.append(clip)
    return track


def _clip(
    project: Project,
    records: dict[str, dict[str, Any]],
    entry: dict[str, Any],
    fps: int,
    media: _Media,
) -> otio.schema.Clip:
    """One clip of the cut, referencing the rendered shot (a title card: its rendered card)."""
    plan, store = project.plan, project.store
    norm = plan.job(entry["ref"].removeprefix("job:"))
    frames = records[norm.id]["video"]["num_frames"]
    meta: dict[str, Any] = {"job": norm.id, "mute": entry.get("mute", False)}
    if norm.shot is None:
        path, start = store.open_verified(records[norm.id]["output"]), 0.0
        name = next((o["text"] for o in norm.request["overlays"]), "title card")
        file_name = norm.id.replace(":", "-")
        meta |= {"title": name, "background": norm.request["card"]["background"]}
        available = frames
    else:
        shot_job = plan.job(plan.final[norm.shot])
        shot = records[shot_job.id]
        path = store.open_verified(shot["output"])
        start = (norm.request["trim"] or {}).get("in") or 0.0
        name = file_name = norm.shot
        meta |= _provenance(plan.jobs(), records, norm.shot, shot_job)
        available = round((shot.get("video") or {}).get("duration", frames / fps) * fps)
    reference = otio.schema.ExternalReference(
        target_url=media.url(path, file_name),
        available_range=TR(RT(0, fps), RT(available, fps)),
    )
    clip = otio.schema.Clip(
        name=name,
        media_reference=reference,
        source_range=TR(RT(round(start * fps), fps), RT(frames, fps)),
    )
    clip.metadata["grokreel"] = meta
    if entry.get("caption"):
        span = TR(RT(round(start * fps), fps), RT(frames, fps))
        clip.markers.append(
            otio.schema.Marker(
                name=entry["caption"], marked_range=span, metadata={"grokreel": {"caption": True}}
            )
        )
    return clip


def _provenance(
    jobs: list[Job], records: dict[str, dict[str, Any]], shot: str, final: Job
) -> dict[str, Any]:
    """What made the shot: each paid request (prompt, key, request id, cost) and the totals."""
    paid = [j for j in jobs if j.shot == shot and j.endpoint and j.id in records]
    steps = [
        {
            "job": j.id,
            "endpoint": j.endpoint_id,
            "prompt": j.request.get("prompt"),
            "key": records[j.id].get("key"),
            "request_id": records[j.id].get("request_id"),
            "cost": records[j.id].get("cost"),
        }
        for j in paid
    ]
    costs = [s["cost"] for s in steps if s["cost"] is not None]
    return {
        "shot": shot,
        "prompt": final.request.get("prompt"),
        "key": records[final.id]["key"],
        "request_id": records[final.id].get("request_id"),
        "cost": round(sum(costs), 4) if costs else None,
        "sha256": records[final.id]["output"],
        "requests": steps,
    }


def _shorten(clip: otio.schema.Clip, *, head: Any = None, tail: Any = None) -> None:
    """Hand half a crossfade to the transition: OTIO clips abut, the dissolve uses handles."""
    start, duration = clip.source_range.start_time, clip.source_range.duration
    if head is not None:
        start, duration = start + head, duration - head
    if tail is not None:
        duration = duration - tail
    clip.source_range = TR(start, duration)


def _fade(name: str, seconds: float) -> otio.schema.Effect:
    kind = "FadeIn" if name == "fade in" else "FadeOut"
    return otio.schema.Effect(
        name=name, effect_name=kind, metadata={"grokreel": {"seconds": seconds, "colour": "black"}}
    )


def _music_track(
    music: dict[str, Any], cut: dict[str, Any], fps: int, media: _Media
) -> otio.schema.Track:
    track = otio.schema.Track(name="Music", kind=otio.schema.TrackKind.Audio)
    path = Path(music["ref"].removeprefix("file:"))
    length = cut["video"]["num_frames"]
    clip = otio.schema.Clip(
        name=path.stem,
        media_reference=otio.schema.ExternalReference(target_url=media.url(path, path.stem)),
        source_range=TR(RT(round(music["start"] * fps), fps), RT(length, fps)),
    )
    clip.metadata["grokreel"] = {k: music[k] for k in ("volume", "fade_in", "fade_out", "loop")}
    track.append(clip)
    return track
