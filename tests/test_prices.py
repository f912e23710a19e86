"""Price overrides, in the storyboard or grokreel.toml, are checked and their mistakes located."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from grokreel.cli import main
from grokreel.cost import load_prices
from grokreel.errors import StoryboardError

BOARD = "shots:\n  a: {prompt: hi}\n"


def test_storyboard_prices_of_the_wrong_type_fail_validate(write_board):
    """`prices: {480p: cheap}` fails `validate` at its place instead of crashing `plan`."""
    board = write_board(BOARD + 'prices: {output_per_second: {"480p": cheap}}\n')
    for command in ("validate", "plan"):
        result = CliRunner().invoke(main, [command, str(board)])
        assert result.exit_code == 1
        assert "film.yaml:3:38: `prices.output_per_second.480p` should be a number" in result.output
        assert "Input should" not in result.output


def test_unknown_price_key_suggests_the_known_ones(board_errors):
    """A misspelt price key names the keys a price table has."""
    diags = board_errors(BOARD + "prices: {image_inptu: 0.1}\n")
    assert diags[0].message == "unknown key `image_inptu` in prices"
    assert "image_input" in diags[0].hint


@pytest.mark.parametrize(
    ("toml", "message", "line"),
    [
        ("[prices\n", "TOML syntax error", 1),
        ("[prices]\nimage_input = 0.1\nper_second = 1\n", "`per_second` should be a mapping", 3),
        ("[prices]\nper_sec = 1\n", "`per_sec` is not a known key", 2),
        ("prices = 3\n", "`prices` should be a table", 1),
        ("[assets]\nroots = 5\n", "`[assets] roots` should be a list", 2),
    ],
)
def test_broken_grokreel_toml_is_a_located_error(write_board, board_dir, toml, message, line):
    """A TOML syntax error or a wrong shape names grokreel.toml and the line; exit 1."""
    (board_dir / "grokreel.toml").write_text(toml)
    board = write_board(BOARD)
    for command in ("validate", "plan"):
        result = CliRunner().invoke(main, [command, str(board)])
        assert result.exit_code == 1, result.output
        assert f"grokreel.toml:{line}:" in result.output
        assert message in result.output
        assert "Traceback" not in result.output


def test_load_prices_raises_a_storyboard_error_for_a_broken_toml(board_dir, write_board):
    """The prices loader on its own reports a broken file the same way."""
    (board_dir / "grokreel.toml").write_text("[prices]\nimage_input = 'cheap'\n")
    with pytest.raises(StoryboardError) as info:
        load_prices(write_board(BOARD))
    assert info.value.diagnostics[0].file.endswith("grokreel.toml")
    assert (info.value.diagnostics[0].line, info.value.diagnostics[0].column) == (2, 1)


def test_valid_overrides_still_apply(board_dir, write_board):
    """A correct toml and storyboard override the defaults in that order."""
    (board_dir / "grokreel.toml").write_text("[prices]\nimage_input = 0.5\n")
    prices = load_prices(write_board(BOARD), {"video_input_per_second": 0.2})
    assert (prices.image_input, prices.video_input_per_second) == (0.5, 0.2)
