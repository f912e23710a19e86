"""A command's start-up: its modules are imported with the cycle collector paused, then frozen.

The modules a command imports (pydantic and the storyboard's schemas, networkx's thousand
dispatchable functions, click, asyncio) leave ~100,000 objects that live as long as the
process. Left alone, the collector traverses them over and over while they are created (some
130 collections during a no-op build's imports) and all of them again at exit, and finds no
garbage among them: together a fifth of a no-op build's wall time. So the collector is paused
while a command's modules load, and in a process of our own (the ``grokreel`` script,
``python -m grokreel``) ``gc.freeze()`` then moves what they built out of its sight for good.
A caller that runs the command line in its own process (click's CliRunner, a test) keeps its
collector as it was: nothing of its is frozen.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["importing", "own_process"]

_own_process = False


def own_process() -> None:
    """Note that the command line is the whole process: what its imports build may be frozen."""
    global _own_process
    _own_process = True


@contextmanager
def importing() -> Iterator[None]:
    """Import a command's modules in this block: no collection while they load, then (in our
    own process) freeze them, as long-lived as the process and never garbage."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if _own_process:
            gc.freeze()
        if enabled:
            gc.enable()
