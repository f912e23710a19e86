"""`grokreel init`: a starter project that validates, matches the schema and builds offline."""

from __future__ import annotations

import jsonschema
import pytest
import yaml

from grokreel.errors import PathError
from grokreel.init import init_project
from grokreel.plan import compile_file
from grokreel.schema import storyboard_schema


@pytest.fixture(scope="module")
def starter(tmp_path_factory):
    """One starter project, written once for the module."""
    folder = tmp_path_factory.mktemp("init") / "demo"
    init_project(folder)
    return folder


def test_starter_has_one_shot_of_each_kind(starter):
    """Text, image, references, edit and extend shots, plus a frame chain and a post-edit."""
    plan = compile_file(starter / "storyboard.yaml")
    kinds = {shot.resolved_kind for shot in plan.storyboard.shots.values()}
    assert kinds == {"text", "image", "references", "edit", "extend"}
    assert {job.kind for job in plan.jobs()} >= {"generate", "edit", "extend", "frame", "cut"}
    assert plan.warnings == []


def test_starter_matches_the_schema_it_points_at(starter):
    """The storyboard names the schema written beside it, and validates against it."""
    text = (starter / "storyboard.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=./storyboard.schema.json")
    jsonschema.validate(yaml.safe_load(text), storyboard_schema())


def test_gitignore_keeps_the_lock_and_ignores_the_cache(starter):
    """The cache and build products are ignored; the lock file is not."""
    lines = (starter / ".gitignore").read_text().splitlines()
    assert ".grokreel/" in lines and not any(line.endswith(".lock") for line in lines)


def test_init_refuses_to_overwrite(starter):
    """A second init into the same folder changes nothing and names what is there."""
    with pytest.raises(PathError, match="storyboard.yaml"):
        init_project(starter)


def test_init_then_build_works_offline(cli, tmp_path):
    """`grokreel init demo && grokreel build demo/storyboard.yaml` makes the film, free."""
    assert cli("init", tmp_path / "demo").exit_code == 0
    built = cli("build", tmp_path / "demo" / "storyboard.yaml", "--backend", "animatic")
    assert built.exit_code == 0, built.output
    assert (tmp_path / "demo" / "storyboard.mp4").stat().st_size > 10_000
    assert "0 failed" in built.output
