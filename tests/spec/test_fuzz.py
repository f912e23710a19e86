"""Generated storyboards and grokreel.toml files: located messages or success, nothing else.

Storyboards are built from the real keys with right and wrong values (huge, negative, non-finite
numbers, unicode and long text, deep nesting), dumped as YAML, then sometimes spiked with what a
hostile or careless file holds (tags, anchors, alias bombs, duplicate keys, an open quote).
Each goes through validate, then plan status and a dry-run's table on the animatic backend.
``HYPOTHESIS_PROFILE=nightly`` runs ten times as many (tests/spec/conftest.py).
"""

from __future__ import annotations

import io
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import event, given, settings
from hypothesis import strategies as st

from grokreel.build import open_project
from grokreel.cost import load_prices
from grokreel.errors import GrokreelError, StoryboardError
from grokreel.plan import compile_file
from grokreel.report import plan_table

SAMPLES = Path(__file__).resolve().parents[2] / "storyboards" / "assets"
NAMES = ["a", "b", "knight", "forest", "cut", "x-1", "1bad", "ランプ"]
FILES = ["assets/knight.png", "assets/forest.png", "assets/make_assets.py", "/etc/passwd", "../x"]
LIMIT_SECONDS = 5.0

numbers = st.one_of(
    st.integers(-5, 20),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, 2.5, 15, 10**4000 // 10**3990]),
)
texts = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["hi", "{{ hero }}", "{{ ''.__class__ }}", "{% for %}", "@knight", "1.5s"]),
    st.sampled_from(["480p", "720p", "auto", "16:9", "last", "first", "crossfade", "x" * 5000]),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, texts, st.sampled_from(NAMES + FILES))
anything = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=12,
)
SHOT_KEYS = ["kind", "prompt", "image", "references", "video", "duration", "resolution"]
SHOT_KEYS += ["aspect_ratio", "edit", "take", "vars", "title", "caption", "bogus"]
CUT_KEYS = ["shot", "title", "duration", "in", "out", "transition", "fade_out", "mute"]


def entries(keys: list[str], value: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A mapping of some of ``keys`` to generated values."""
    return st.dictionaries(st.sampled_from(keys), value, max_size=len(keys))


shot = st.one_of(
    st.fixed_dictionaries({"prompt": texts}, optional={"duration": numbers, "take": numbers}),
    entries(SHOT_KEYS, scalars | entries(["shot", "asset", "path", "frame"], scalars)),
    anything,
)
cut_item = st.one_of(st.sampled_from(NAMES), entries(CUT_KEYS, scalars), anything)
wild = st.fixed_dictionaries(
    {"shots": st.dictionaries(st.sampled_from(NAMES) | texts, shot, max_size=4) | anything},
    optional={
        "defaults": entries(["resolution", "aspect_ratio", "duration"], scalars) | anything,
        "assets": st.dictionaries(st.sampled_from(NAMES), st.sampled_from(FILES) | anything),
        "vars": st.dictionaries(texts, scalars | anything, max_size=3),
        "cut": st.lists(cut_item, max_size=4) | anything,
        "music": st.sampled_from(FILES) | entries(["asset", "path", "volume", "loop"], scalars),
        "output": entries(["path", "resolution", "fps", "captions", "fit"], scalars),
        "prices": entries(["image_input", "per_second", "output_per_second"], anything),
        "version": scalars,
        "extra": anything,
    },
)
good_shot = st.fixed_dictionaries(
    {"prompt": st.sampled_from(["hi", "{{ hero }} rides", "ランプ の 光", "a knight"])},
    optional={
        "duration": st.integers(1, 10),
        "resolution": st.sampled_from(["480p", "720p"]),
        "aspect_ratio": st.sampled_from(["16:9", "1:1", "9:16"]),
        "take": st.integers(1, 3),
        "image": st.sampled_from(["knight", "assets/forest.png", {"asset": "knight"}]),
        "edit": st.just("grade it blue"),
        "caption": st.text(max_size=10),
    },
)
extension = st.fixed_dictionaries(
    {"kind": st.just("extend"), "video": st.just("a"), "prompt": st.just("more")},
    optional={"duration": st.integers(2, 10)},
)
good_cut = st.lists(
    st.sampled_from(["a", "b", {"shot": "a", "transition": "fade"}, {"title": "The End"}]),
    min_size=1,
    max_size=4,
)
good = st.fixed_dictionaries(
    {
        "vars": st.just({"hero": "a knight"}),
        "assets": st.just({"knight": "assets/knight.png"}),
        "shots": st.fixed_dictionaries({"a": good_shot}, optional={"b": good_shot, "z": extension}),
    },
    optional={
        "cut": good_cut,
        "defaults": st.fixed_dictionaries({}, optional={"duration": st.integers(1, 8)}),
        "output": st.fixed_dictionaries({}, optional={"resolution": st.sampled_from(["480p"])}),
    },
)


@st.composite
def near_good(draw: st.DrawFn) -> dict[str, Any]:
    """A valid storyboard with up to two of its shots' values replaced by anything at all."""
    board = draw(good)
    for _ in range(draw(st.integers(0, 2))):
        shot = board["shots"][draw(st.sampled_from(sorted(board["shots"])))]
        shot[draw(st.sampled_from(SHOT_KEYS))] = draw(scalars)
    return board


storyboard = st.one_of(wild, good, near_good())
BOMB = 'lol0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"lol{i + 1}: &l{i + 1} [{', '.join([f'*l{i}'] * 9)}]\n" for i in range(8)
)
SPIKES = [
    "",
    "extra: !custom x\n",
    "extra: !!python/object/apply:os.system ['echo hacked']\n",
    "extra: !!python/name:os.system\n",
    "&x [*x]: 1\n",
    "extra: &r [*r]\n",
    "shots: {}\n",  # a duplicate key: the data already has `shots`
    BOMB,
    'title: "never closed\n',
    "extra: " + "[" * 200 + "]" * 200 + "\n",
    "extra: \t\x07\n",
    "<<: {a: 1}\n",
    "defaults: &d {duration: 4}\nextra: *d\n",
]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project folder with the sample assets, reused by every example."""
    root = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(SAMPLES, root / "assets")
    return root


def assert_located(error: GrokreelError) -> None:
    """A storyboard error names a file, a line and a column ≥ 1 for every problem."""
    assert isinstance(error, StoryboardError), repr(error)
    assert error.diagnostics
    for d in error.diagnostics:
        assert d.file and d.line >= 1 and d.column >= 1 and d.message, d


def run_everything(path: Path, cache: Path) -> None:
    """validate, then (when valid) plan status and the dry run's table on the animatic backend."""
    try:
        compile_file(path)
        event("valid storyboard")
        project = open_project(path, cache_dir=cache, backend="animatic")
        project.plan.check_backend("animatic")
        plan_table(project.status(), io.StringIO(), "animatic")
    except GrokreelError as error:
        assert_located(error)


def dump(data: Any) -> str:
    try:
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    except (yaml.YAMLError, RecursionError):
        return "shots: {a: {prompt: hi}}\n"


@given(data=storyboard, spike=st.sampled_from(SPIKES))
def test_generated_storyboards_fail_located_or_succeed(folder: Path, data: Any, spike: str):
    """Any generated storyboard: success or a located StoryboardError, within 5 s."""
    path = folder / "film.yaml"
    path.write_text(dump(data) + spike, encoding="utf-8")
    start = time.monotonic()
    run_everything(path, folder / ".grokreel")
    assert time.monotonic() - start < LIMIT_SECONDS


toml_values = st.one_of(
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8).map(lambda t: '"' + t.replace("\\", "").replace('"', "") + '"'),
    st.sampled_from(["{}", '{"480p" = 0.1}', '{"edit-video" = {"720p" = "x"}}', "[1, 2]"]),
    st.sampled_from(["true", "", "[", '"open', "1 = 2", "{480p = }"]),
)
toml_keys = st.sampled_from(
    ["image_input", "per_second", "output_per_second", "video_input_per_second", "per_sec", "roots"]
)
toml_file = st.lists(
    st.tuples(st.sampled_from(["[prices]", "[assets]", "[prices", "prices = 3", ""]), toml_keys),
    max_size=3,
)


@settings(max_examples=max(100, settings().max_examples // 4))  # prices: a smaller space
@given(lines=toml_file, value=toml_values)
def test_generated_grokreel_toml_files_fail_located_or_load(folder: Path, lines, value):
    """Any generated grokreel.toml: prices load, or a located error naming the file."""
    sub = folder / "toml"
    sub.mkdir(exist_ok=True)
    text = "".join(f"{header}\n{key} = {value}\n" for header, key in lines)
    (sub / "grokreel.toml").write_text(text, encoding="utf-8")
    board = sub / "film.yaml"
    board.write_text("shots: {a: {prompt: hi}}\n")
    for step in (lambda: load_prices(board), lambda: compile_file(board)):
        try:
            step()
        except GrokreelError as error:
            assert_located(error)
            assert any(d.file.endswith("grokreel.toml") for d in error.diagnostics)
