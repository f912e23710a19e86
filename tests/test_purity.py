"""The compiler is pure: plan and the cut's compiler import no media library and not each other."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MEDIA = ("av", "PIL", "numpy", "moviepy")


def media_imported_by_compiling(board) -> str:
    """Compile ``board`` in a fresh interpreter; the media libraries that got imported."""
    code = (
        "import sys; from pathlib import Path; from grokreel.plan import compile_file; "
        f"plan = compile_file(Path({str(board)!r})); assert 'cut' in plan.graph; "
        f"print(','.join(m for m in {MEDIA!r} if m in sys.modules))"
    )
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_compiling_imports_no_media_library(write_board):
    """Compiling a storyboard with image assets, a cut and music leaves av, PIL, numpy out."""
    board = write_board("""
        assets: {k: assets/knight.png}
        shots:
          a: {image: k, prompt: hi}
          b: {references: [k], prompt: "@k"}
        cut: [a, {shot: b, transition: crossfade}]
    """)
    assert media_imported_by_compiling(board) == ""


def test_checking_glyphs_of_any_script_imports_no_media_library(write_board):
    """A storyboard in Japanese and Arabic is checked for fonts without importing Pillow."""
    board = write_board("""
        shots:
          a: {prompt: 夜明けの騎士, caption: مرحبا}
        cut: [{title: 第一章}, a]
    """)
    assert media_imported_by_compiling(board) == ""


def test_plan_and_cut_compile_do_not_import_each_other():
    """The shared Job and film size live in grokreel/job.py, not in plan.py."""
    cut = (ROOT / "grokreel" / "cut" / "compile.py").read_text()
    job = (ROOT / "grokreel" / "job.py").read_text()
    assert "from ..plan" not in cut and "_Compiler" not in cut
    assert "from .plan" not in job and "from .cut" not in job
