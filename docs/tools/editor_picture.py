"""The editor session drawn as an editor would show it: the storyboard, the completion list at
the cursor and the problems, rendered by headless Chromium into docs/editor-autocomplete.png.
Used by editor_session.py (``--png``)."""

from __future__ import annotations

import html
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from editor_session import Diagnostic, Session


# ----------------------------------------------------------------------------- the picture
def editor_html(session: Session, mark: str = "a") -> str:
    """The storyboard as an editor draws it: squiggles under the diagnostics, the completion list
    open at ``mark``, the problems panel below."""
    lines = session.text.splitlines()
    at = next(c for c in session.completions if c.mark == mark)
    marks: dict[int, list[Diagnostic]] = {}
    for d in session.diagnostics:
        marks.setdefault(d.line, []).append(d)
    rows = []
    for number, line in enumerate(lines):
        body = html.escape(line)
        if number in marks:
            d = marks[number][0]
            body = (
                html.escape(line[: d.start])
                + f'<span class="sq">{html.escape(line[d.start : d.end])}</span>'
                + html.escape(line[d.end :])
            )
        if line.lstrip().startswith("#"):
            body = f'<span class="cm">{body}</span>'
        elif ":" in line and number not in marks:
            key, _, rest = line.partition(":")
            body = f'<span class="k">{html.escape(key)}</span>:{html.escape(rest)}'
        if number == at.line:
            body += '<span class="cur"></span>'
        rows.append(f'<div class="ln"><i>{number + 1}</i>{body}</div>')
    items = "".join(
        f'<div class="it{" sel" if i == 0 else ""}"><b>⬚</b>{html.escape(label)}</div>'
        for i, label in enumerate(at.labels[:9])
    )
    first = html.escape(at.details.get(at.labels[0], "")) if at.labels else ""
    problems = "".join(
        f'<div class="pb"><span class="x">⊗</span>{html.escape(d.message)} '
        f'<span class="dim">{html.escape(d.source)} [Ln {d.line + 1}, Col {d.start + 1}]</span>'
        "</div>"
        for d in session.diagnostics
    )
    top = 19 * (at.line + 1)  # below the cursor's line, inside the editor area
    left = 44 + 8.4 * at.column
    return f"""<!doctype html><meta charset="utf-8"><style>
body{{margin:0;background:#1e1e1e;color:#d4d4d4;font:14px/19px "DejaVu Sans Mono",monospace;
width:860px;height:640px;overflow:hidden}}
.tab{{background:#252526;color:#fff;padding:7px 14px;font:13px sans-serif;height:20px}}
.tab span{{color:#9d9d9d}} .ed{{position:relative;height:470px}}
.ln{{white-space:pre;height:19px}} .ln i{{display:inline-block;width:34px;text-align:right;
margin-right:10px;color:#858585;font-style:normal}}
.k{{color:#569cd6}} .cm{{color:#6a9955}}
.sq{{text-decoration:underline wavy #f14c4c;text-underline-offset:3px}}
.cur{{display:inline-block;width:2px;height:17px;background:#aeafad;vertical-align:middle}}
.pop{{position:absolute;z-index:2;top:{top}px;left:{left}px;display:flex;border:1px solid #454545;
background:#252526;box-shadow:0 2px 8px #000}}
.list{{width:170px}} .it{{padding:0 6px;white-space:pre}} .it b{{color:#b180d7;font-weight:normal;
margin-right:6px}} .sel{{background:#04395e}}
.doc{{align-self:flex-start;width:300px;padding:6px 8px;border-left:1px solid #454545;
font:12px/16px sans-serif;color:#ccc}}
.panel{{position:absolute;top:504px;left:0;right:0;bottom:0;background:#1e1e1e;
border-top:1px solid #414141;padding:6px 12px;font:12px/20px sans-serif}}
.panel h4{{margin:0 0 4px;font-size:11px;letter-spacing:1px;color:#e7e7e7}}
.x{{color:#f14c4c;margin-right:6px}} .dim{{color:#8a8a8a}}
</style>
<div class="tab">storyboard.yaml <span>— {html.escape(session.server)}</span></div>
<div class="ed">{"".join(rows)}
<div class="pop"><div class="list">{items}</div><div class="doc">{first}</div></div></div>
<div class="panel"><h4>PROBLEMS {len(session.diagnostics)}</h4>{problems}</div>
"""


def screenshot(page: str, target: Path, size: tuple[int, int] = (860, 640)) -> None:
    """``page`` drawn by headless Chromium into ``target`` (a palette PNG, to stay small)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        raise SystemExit("no chromium on PATH: the transcript was written, the picture was not")
    with tempfile.TemporaryDirectory(prefix="grokreel-shot-") as tmp:
        source, shot = Path(tmp) / "editor.html", Path(tmp) / "editor.png"
        source.write_text(page, encoding="utf-8")
        subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--hide-scrollbars",
                f"--user-data-dir={Path(tmp) / 'profile'}",
                f"--screenshot={shot}",
                f"--window-size={size[0]},{size[1]}",
                source.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        try:
            from PIL import Image

            with Image.open(shot) as image:
                small = image.convert("RGB").quantize(colors=64)
                small.save(target, optimize=True)
        except ImportError:
            shutil.copyfile(shot, target)


# ----------------------------------------------------------------------------- main
