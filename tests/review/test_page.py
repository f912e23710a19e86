"""The review page, opened in a real headless Chromium as an author would open it."""

from __future__ import annotations

import pytest

from grokreel.build import open_project
from grokreel.review import review_folder, write_review

BOARD = """
title: Review <b>test</b>
defaults: {resolution: 480p, duration: 1}
assets: {knight: assets/knight.png}
shots:
  intro:
    prompt: 'a sea </pre><script>document.title = "owned"</script> & more'
  hero: {image: knight, prompt: "{{ who }} turns", vars: {who: the knight}, take: 2}
  later: {image: {shot: hero, frame: last}, prompt: onward, edit: grade it blue}
cut: [{title: Opening, duration: 1}, intro, {shot: hero, transition: crossfade}, later]
output: {resolution: 480p}
"""
SCRIPT_PROMPT = 'a sea </pre><script>document.title = "owned"</script> & more'


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A board built offline twice (take 1, then take 2 of `hero`), with its page written."""
    import shutil

    from tests.conftest import SAMPLES

    folder = tmp_path_factory.mktemp("review")
    shutil.copytree(SAMPLES / "assets", folder / "assets")
    path = folder / "film.yaml"
    path.write_text(BOARD.replace("take: 2", "take: 1"))
    open_project(path, backend="animatic").build()
    path.write_text(BOARD)
    project = open_project(path, backend="animatic")
    before = project.status()
    result = project.build()
    assert result.ok
    return project, write_review(project, before, result.outcomes)


@pytest.fixture(scope="module")
def film(built):
    """The page's data for the built board."""
    from grokreel.review import collect

    return collect(built[0])


def test_page_is_self_contained(built):
    """Every link is relative and inside the folder: no server, no CDN."""
    project, page = built
    html = page.read_text()
    assert page.parent == review_folder(project.plan.path)
    assert "http://" not in html and "https://" not in html and "<script" not in html.lower()


def test_every_take_is_shown_with_the_line_that_selects_it(film):
    """Both takes of `hero` are there; the selected one is take 2."""
    hero = next(s for s in film.shots if s.name == "hero")
    assert [(t.line, t.current) for t in hero.takes] == [
        ("take: 1 (or no take line)", False),
        ("take: 2", True),
    ]
    assert hero.takes[0].clip.sha != hero.takes[1].clip.sha


def test_cards_carry_prompts_status_and_upstream(film):
    """Prompts as written and as sent, status, upstream shots and the cut strip."""
    hero, later = (next(s for s in film.shots if s.name == n) for n in ("hero", "later"))
    assert hero.prompt == "{{ who }} turns" and hero.jobs[0].prompt == "the knight turns"
    assert later.upstream == ["hero"] and later.status == "cached"
    assert [job.endpoint for job in later.jobs if job.endpoint] == ["image-to-video", "edit-video"]
    assert [label for label, _ in film.strip] == ["title card", "intro", "hero", "later"]
    assert film.cut is not None and all(clip for _, clip in film.strip)


def test_status_says_what_the_build_rendered_and_why(built):
    """Written by a build, a re-rendered shot says it was rendered now, with its reason."""
    html = built[1].read_text()
    # hero, the frame grabbed from it, later and later's edit
    assert "take 1 → 2" in html and html.count("rendered in this build") == 4


def test_thumbnails_are_made_once_per_clip(built):
    """Writing the page again makes no new thumbnails: they are cached by the clip's hash."""
    project, _ = built
    before = {p: p.stat().st_mtime_ns for p in (project.store.root / "thumbs").glob("??/*.jpg")}
    write_review(project)
    after = {p: p.stat().st_mtime_ns for p in (project.store.root / "thumbs").glob("??/*.jpg")}
    assert after == before and len(before) >= 3 * 4


def test_page_in_chromium(built, load_page):
    """No console errors, every thumbnail and video loads, one card per shot, prompts as text."""
    project, page = built
    report = load_page(page)
    checks = report.checks
    assert report.console_errors == []
    assert checks["cards"] == len(project.plan.storyboard.shots) == 3
    assert checks["broken_images"] == [] and checks["broken_videos"] == []
    assert checks["images"] >= 3 * 3 + 4 and checks["videos"] >= 3 + 1
    assert checks["images_without_alt"] == 0
    assert checks["scripts"] == 0 and SCRIPT_PROMPT in checks["prompts"]
    assert all(not src.startswith(("/", "http", "file:")) for src in checks["sources"])
    assert "Review <b>test</b>" in checks["headings"]


def test_a_no_op_build_leaves_the_page_and_a_change_rewrites_it(tmp_path):
    """The page is rewritten only when something it shows may differ: a no-op rebuild of a big
    board must not pay for a page, while a new title (which changes no job) must still show."""
    path = tmp_path / "film.yaml"
    path.write_text("title: First\nshots:\n  a: {prompt: a quiet sea, duration: 1}\n")

    def build_and_review() -> tuple[str, int]:
        project = open_project(path, backend="animatic")
        before = project.status()
        result = project.build()
        assert result.ok
        page = write_review(project, before, result.outcomes)
        return page.read_text(), page.stat().st_mtime_ns

    first, _ = build_and_review()
    again, stamp = build_and_review()  # statuses change (rendered → cached): rewritten
    assert "rendered in this build" in first and "rendered in this build" not in again
    same, same_stamp = build_and_review()
    assert (same, same_stamp) == (again, stamp)
    path.write_text(path.read_text().replace("First", "Second <i>cut</i>"))
    changed, _ = build_and_review()
    assert "Second &lt;i&gt;cut&lt;/i&gt;" in changed and "First" not in changed
