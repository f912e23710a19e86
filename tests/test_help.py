"""`grokreel help` prints the reference that ships in the package; hints point at it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from grokreel.cli import main
from grokreel.help import TOPICS, reference

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("topic", sorted(TOPICS))
def test_every_topic_prints_its_section(topic):
    """Each topic prints its own section of the packaged reference."""
    result = CliRunner().invoke(main, ["help", topic])
    assert result.exit_code == 0
    assert result.output.startswith(f"## {TOPICS[topic]}\n")


def test_help_without_topic_prints_everything_and_unknown_topic_is_refused():
    """No topic prints the whole reference; an unknown one lists the topics, exit 2."""
    runner = CliRunner()
    assert runner.invoke(main, ["help"]).output.startswith("# The storyboard language")
    refused = runner.invoke(main, ["help", "nope"])
    assert refused.exit_code == 2
    assert "topics: storyboard, keys" in refused.output


def test_one_copy_of_the_reference():
    """The package data is the reference; docs/storyboard.md only points at it."""
    assert "## Shot keys" in reference()
    assert "## Shot keys" not in (ROOT / "docs" / "storyboard.md").read_text()
    assert "grokreel/reference/storyboard.md" in (ROOT / "docs" / "storyboard.md").read_text()


def test_no_hint_sends_people_to_docs():
    """No message in the package points at docs/storyboard.md."""
    sources = (ROOT / "grokreel").rglob("*.py")
    assert not [p for p in sources if "docs/storyboard.md" in p.read_text(encoding="utf-8")]
