"""A cached build, `plan` and `validate` never import the media stack (moviepy, av, numpy, PIL):
importing it costs more than the whole no-op build of a 300-shot board."""

from __future__ import annotations

import gc
import os
import subprocess
import sys

import pytest

from grokreel.testing import FalTestServer

HEAVY = ("moviepy", "av", "numpy", "PIL")
# Not needed by a cached offline build in a log (no terminal): the network client, Jinja2 (only
# for prompt templates and the review page, which is left alone when unchanged), Rich, and
# filelock (a no-op build changes no shared record, so it takes no lock).
UNNEEDED = ("httpx", "jinja2", "rich", "filelock")
# Only a build runs jobs: `plan` and `validate` import neither the runner nor what it runs on.
RUNNER = ("asyncio", "ssl", "filelock", "grokreel.execute")
# Runs grokreel's CLI as `python -m grokreel` does, then prints every module it imported.
WRAPPER = """
import atexit, runpy, sys
atexit.register(lambda: print("MODULES", " ".join(sorted(sys.modules))))
sys.argv = ["grokreel", *sys.argv[1:]]
runpy.run_module("grokreel", run_name="__main__")
"""
# The same, printing how many objects the start-up froze out of the cycle collector's sight.
FROZEN = """
import atexit, gc, runpy, sys
atexit.register(lambda: print("FROZEN", gc.get_freeze_count()))
sys.argv = ["grokreel", *sys.argv[1:]]
runpy.run_module("grokreel", run_name="__main__")
"""


@pytest.fixture(scope="module")
def cached_board(tmp_path_factory):
    """A one-shot storyboard, built once (animatic) so that its next build is a no-op."""
    folder = tmp_path_factory.mktemp("light")
    board = folder / "film.yaml"
    board.write_text("defaults: {resolution: 480p, duration: 1}\nshots: {a: {prompt: a lake}}\n")
    command = [sys.executable, "-m", "grokreel", "build", str(board), "--backend", "animatic"]
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    return board


@pytest.mark.parametrize(
    "command", [["build", "--backend", "animatic"], ["plan", "--backend", "animatic"], ["validate"]]
)
def test_a_cached_build_plan_and_validate_import_no_media_stack(cached_board, command):
    """None of moviepy, av, numpy or PIL is imported (and a no-op build renders nothing)."""
    argv = [sys.executable, "-c", WRAPPER, command[0], str(cached_board), *command[1:]]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    modules = set(out.stdout.split("MODULES", 1)[1].split())
    assert "grokreel.cli" in modules  # the wrapper did run grokreel
    assert sorted(m for m in modules if m.split(".")[0] in HEAVY) == []
    if command[0] == "build":
        assert "0 rendered" in out.stderr


@pytest.mark.parametrize("command", [["plan", "--backend", "animatic"], ["validate"]])
def test_plan_and_validate_import_no_runner(cached_board, command):
    """asyncio (with ssl), filelock and the runner are a build's: tens of milliseconds here."""
    argv = [sys.executable, "-c", WRAPPER, command[0], str(cached_board), *command[1:]]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    modules = set(out.stdout.split("MODULES", 1)[1].split())
    assert sorted(m for m in modules if m in RUNNER) == []


def test_a_no_op_build_in_a_log_imports_no_network_template_or_terminal_library(cached_board):
    """Each of these costs tens of milliseconds of every no-op's start-up."""
    argv = [sys.executable, "-c", WRAPPER, "build", str(cached_board), "--backend", "animatic"]
    subprocess.run(argv, capture_output=True, text=True, timeout=120)  # the page, once
    out = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "0 rendered" in out.stderr, out.stderr
    modules = set(out.stdout.split("MODULES", 1)[1].split())
    assert sorted(m for m in modules if m.split(".")[0] in UNNEEDED) == []


@pytest.mark.parametrize("command", [["build", "--backend", "animatic"], ["validate"]])
def test_a_command_of_its_own_process_freezes_what_it_imported(cached_board, command):
    """The collector no longer traverses the modules' objects while they load and at exit."""
    argv = [sys.executable, "-c", FROZEN, command[0], str(cached_board), *command[1:]]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.split("FROZEN", 1)[1]) > 10_000


def test_a_command_run_in_process_leaves_the_callers_collector_alone(cli, cached_board):
    """CliRunner (any caller passing ``args``) gets its collector back enabled, nothing frozen."""
    before = gc.get_freeze_count()
    assert cli("validate", str(cached_board)).exit_code == 0
    assert gc.isenabled() and gc.get_freeze_count() == before


def test_a_no_op_build_on_fal_imports_no_network_stack(tmp_path):
    """With FAL_KEY set (a real user's setting), a build that renders nothing never makes the
    fal backend: no httpx, and not one call, though the server is gone."""
    board = tmp_path / "film.yaml"
    board.write_text("defaults: {resolution: 480p, duration: 1}\nshots: {a: {prompt: a lake}}\n")
    build = [sys.executable, "-m", "grokreel", "build", str(board)]
    with FalTestServer(key="light-key") as fal:
        env = os.environ | fal.env()
        subprocess.run(build, env=env, check=True, capture_output=True, timeout=300)
        paid = len(fal.submissions)
    argv = [sys.executable, "-c", WRAPPER, "build", str(board)]
    out = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    assert paid == 1 and out.returncode == 0 and "0 rendered" in out.stderr, out.stderr
    modules = set(out.stdout.split("MODULES", 1)[1].split())
    assert "grokreel.backends.fal" not in modules and "httpx" not in modules
