"""The command line's edge: the one place where an exception becomes what the user sees.

    GrokreelError        → its message, exit 1 (with --json: {"error": …} on stdout)
    OSError on a path    → the path and what went wrong (permission, full disk, a folder…), exit 1
    KeyboardInterrupt    → a note that finished work is kept, exit 130
    anything else        → a bug: the traceback goes to a log file (secrets scrubbed) and one line
                           says where it is and how to report it, exit 1

``GROKREEL_DEBUG=1`` also prints the traceback. Click's own usage errors keep click's exit status 2.
"""

from __future__ import annotations

import errno
import json
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import click

from .errors import GrokreelError, StoryboardError
from .startup import own_process

__all__ = [
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EdgeGroup",
    "interrupt_told",
    "remember",
    "scrub",
    "user_message",
]

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130
SECRET_VARS = ("FAL_KEY", "FAL_KEY_ID", "FAL_KEY_SECRET")

_ERRNO_HINTS = {
    errno.ENOSPC: "the disk is full: free some space, or use --cache-dir / -o on another disk",
    errno.EDQUOT: "the disk quota is used up: free some space",
    errno.EROFS: "the file system is read-only: use --cache-dir / -o on a writable disk",
    errno.EACCES: "permission denied: check the file's owner and mode",
    errno.EPERM: "operation not permitted: check the file's owner and mode",
    errno.EISDIR: "it is a folder, not a file: give a file name",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.ENOENT: "no such file or folder: check the path (its folder must exist)",
    errno.EEXIST: "it already exists",
    errno.ENAMETOOLONG: "the name is too long",
    errno.ELOOP: "too many symbolic links",
}


def remember(name: str) -> Any:
    """A click callback that notes a parameter in ``ctx.meta``, where the edge can see it."""

    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        ctx.meta[f"grokreel.{name}"] = value
        return value

    return callback


def interrupt_told() -> None:
    """Note that the command already said what a Ctrl-C kept (the live view's last line), so the
    edge exits 130 without a second line saying the same."""
    click.get_current_context().meta["grokreel.interrupt_told"] = True


class EdgeGroup(click.Group):
    """A click group whose sub-commands never end in a traceback (see the module docstring)."""

    def main(self, args: Any = None, *rest: Any, **extra: Any) -> Any:
        """Without ``args`` the command line is the process's own (the ``grokreel`` script,
        ``python -m grokreel``), so its start-up may freeze what it imports (startup.py)."""
        if args is None:
            own_process()
        return super().main(args, *rest, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except KeyboardInterrupt:
            if not ctx.meta.get("grokreel.interrupt_told"):
                _say("interrupted: finished clips are kept in the cache; build again to resume")
            sys.exit(EXIT_INTERRUPTED)
        except Exception as exc:  # the one place every other exception is turned into words
            sys.exit(report(ctx, exc))


def report(ctx: click.Context, exc: Exception) -> int:
    """Tell the user what went wrong; return the exit status."""
    if os.environ.get("GROKREEL_DEBUG") == "1":
        click.echo(scrub("".join(traceback.format_exception(exc))), err=True)
    message = user_message(exc)
    if message is None:
        log = crash_log(ctx, exc)
        message = (
            f"internal error ({type(exc).__name__}): this is a bug in grokreel. The details are "
            f"in {log}; please report it to the grokreel maintainers with that file attached"
        )
        exc = _Internal(message, log)
    _say(message)
    if ctx.meta.get("grokreel.json") and not ctx.meta.get("grokreel.json_printed"):
        from .report import error_json

        data = error_json(exc, message.removeprefix("error: "))
        click.echo(scrub(json.dumps(data, indent=2, ensure_ascii=False)))
    return EXIT_ERROR


def user_message(exc: BaseException) -> str | None:
    """What the user is told about ``exc``: a storyboard's FILE:LINE:COL list, ``error: …``
    for any other GrokreelError or a known OSError; None for a bug (``report`` logs those)."""
    if isinstance(exc, StoryboardError):
        return str(exc)
    if isinstance(exc, GrokreelError):
        return f"error: {exc}"
    if isinstance(exc, OSError) and exc.errno in _ERRNO_HINTS:
        return f"error: {os_message(exc)}"
    return None


class _Internal(Exception):
    """An unexpected exception, as the JSON error report sees it: a message and the log's path."""

    def __init__(self, message: str, log: Path):
        super().__init__(message)
        self.filename = str(log)


def os_message(exc: OSError) -> str:
    """``PATH: what happened (hint)`` for an operating-system error on a user's path."""
    hint = _ERRNO_HINTS.get(exc.errno or 0, exc.strerror or "")
    paths = " → ".join(str(p) for p in (exc.filename, exc.filename2) if p)
    return f"{paths}: {hint}" if paths else f"{exc.strerror}: {hint}"


def _say(message: str) -> None:
    click.echo(scrub(message), err=True)


def scrub(text: str) -> str:
    """``text`` with the value of every API-key environment variable replaced by ``***``."""
    for name in SECRET_VARS:
        value = os.environ.get(name) or ""
        if len(value) >= 4:
            text = text.replace(value, "***")
    return text


def crash_log(ctx: click.Context, exc: BaseException) -> Path:
    """Write the scrubbed traceback to ``crashes/`` under the cache (else a temp folder)."""
    text = scrub(_crash_text(ctx, exc))
    name = f"crash-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    for folder in _log_folders(ctx):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / name
            path.write_text(text, encoding="utf-8")
            return path
        except OSError:
            continue
    return Path("(nowhere: no writable folder; run again with GROKREEL_DEBUG=1)")


def _crash_text(ctx: click.Context, exc: BaseException) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        ours = version("grokreel")
    except PackageNotFoundError:
        ours = "unknown"
    head = [
        f"grokreel {ours}, Python {sys.version.split()[0]}, {sys.platform}",
        f"command: {' '.join(sys.argv)}",
        f"time: {time.strftime('%Y-%m-%d %H:%M:%S %z')}",
        "",
    ]
    return "\n".join(head) + "".join(traceback.format_exception(exc))


def _log_folders(ctx: click.Context) -> list[Path]:
    """Where a crash log may go: the cache in use, the storyboard's default cache, a temp dir."""
    folders = []
    cache = ctx.meta.get("grokreel.cache_dir") or os.environ.get("GROKREEL_CACHE_DIR")
    if cache:
        folders.append(Path(cache))
    board = ctx.meta.get("grokreel.storyboard")
    if board and Path(board).is_file():
        folders.append(Path(board).resolve().parent / ".grokreel")
    folders.append(Path(tempfile.gettempdir()) / "grokreel")
    return [folder / "crashes" for folder in folders]
