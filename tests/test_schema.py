"""`grokreel schema`: the storyboard's JSON Schema agrees with `validate` on what it accepts."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from grokreel.errors import StoryboardError
from grokreel.plan import compile_file
from grokreel.schema import dumps, shipped, storyboard_schema

SAMPLES = sorted((Path(__file__).resolve().parent.parent / "storyboards").glob("*.yaml"))
GOOD = """
defaults: {duration: 4}
assets: {knight: assets/knight.png}
shots:
  one: {prompt: a sea}
  two: {image: knight, prompt: he turns, duration: 5}
  three: {image: {shot: two, frame: "1.5s"}, prompt: later, edit: grade it blue}
cut: [one, {shot: two, transition: crossfade}, {title: The end, duration: 2}]
"""


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    """A validator for the generated schema (itself checked against its dialect)."""
    schema = storyboard_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_every_sample_storyboard_validates(validator, sample):
    """Each storyboard shipped in storyboards/ is valid under the schema."""
    assert list(validator.iter_errors(yaml.safe_load(sample.read_text()))) == []


def test_shorthands_validate(validator, write_board):
    """String shorthands and `"1.5s"` frames, which the models accept, pass the schema too."""
    compile_file(write_board(GOOD))
    assert list(validator.iter_errors(yaml.safe_load(GOOD))) == []


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ("prompt: a sea", "promt: a sea", "promt"),
        ("duration: 5", "duration: 16", "16"),
        ("duration: 5", "duration: 0", "0"),
        ("transition: crossfade", "transition: wipe", "wipe"),
    ],
    ids=["misspelt-key", "duration-over", "duration-under", "unknown-enum"],
)
def test_schema_rejects_what_validate_rejects(validator, write_board, old, new, words):
    """A misspelt key, an out-of-range duration, an unknown enum: both the schema and `validate`
    refuse them."""
    text = GOOD.replace(old, new)
    with pytest.raises(StoryboardError):
        compile_file(write_board(text))
    errors = list(validator.iter_errors(yaml.safe_load(text)))
    assert errors and any(words in e.message or words in str(e.instance) for e in errors)


def test_descriptions_enums_and_api_defaults_are_in_it():
    """An editor can show what a key means, its choices, and the API's ranges and defaults."""
    shot = storyboard_schema()["$defs"]["Shot"]["properties"]
    assert "variation" in shot["take"]["description"]
    assert "reference-to-video 1-10 (default 8)" in shot["duration"]["description"]
    assert {"480p", "720p"} <= set(shot["resolution"]["anyOf"][0]["enum"])
    assert shot["take"]["default"] == 1


def test_shipped_copy_is_current():
    """The schema file inside the package is exactly what `grokreel schema` prints."""
    assert shipped() == dumps()


def test_cli_prints_and_writes_the_schema(cli, tmp_path):
    """`grokreel schema` prints JSON; `-o FILE` writes it and shows the editor line."""
    printed = cli("schema")
    assert printed.exit_code == 0 and json.loads(printed.output)["title"] == "Storyboard"
    written = cli("schema", "-o", tmp_path / "s.json")
    assert written.exit_code == 0 and "yaml-language-server: $schema=" in written.output
    assert (tmp_path / "s.json").read_text() == dumps()
