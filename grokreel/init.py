"""`grokreel init [DIR]`: a starter project that builds offline at once.

The texts (a storyboard with one shot of each kind, ``grokreel.toml``, ``.gitignore``) are package
data in ``grokreel/starter/``; the two images are drawn here, so the starter needs no binary files.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from PIL import Image, ImageDraw

from .cache.store import atomic_write_text
from .errors import PathError
from .schema import dumps

__all__ = ["STARTER_FILES", "init_project"]

STARTER_FILES = {  # file written → starter text it comes from
    "storyboard.yaml": "storyboard.yaml",
    "grokreel.toml": "grokreel.toml",
    ".gitignore": "gitignore",
}


def init_project(folder: Path) -> list[Path]:
    """Write the starter into ``folder`` (created if missing); refuse to overwrite any file."""
    planned = [folder / name for name in STARTER_FILES]
    planned += [folder / "storyboard.schema.json", *_asset_paths(folder)]
    existing = [p for p in planned if p.exists()]
    if existing:
        names = ", ".join(p.name for p in existing)
        raise PathError(folder, f"already holds {names}; init writes only into a fresh folder")
    (folder / "assets").mkdir(parents=True, exist_ok=True)
    starter = files("grokreel").joinpath("starter")
    for name, source in STARTER_FILES.items():
        atomic_write_text(folder / name, starter.joinpath(source).read_text(encoding="utf-8"))
    atomic_write_text(folder / "storyboard.schema.json", dumps())
    keeper, coast = _asset_paths(folder)
    _keeper().save(keeper, optimize=True)
    _coast().save(coast, optimize=True)
    return planned


def _asset_paths(folder: Path) -> list[Path]:
    return [folder / "assets" / "keeper.png", folder / "assets" / "coast.png"]


def _keeper() -> Image.Image:
    """A figure in a yellow raincoat holding a lantern: a first frame and a reference."""
    img = Image.new("RGB", (512, 512), (30, 36, 58))
    d = ImageDraw.Draw(img)
    d.ellipse((206, 70, 306, 170), fill=(226, 190, 160))  # face
    d.polygon([(196, 110), (256, 40), (316, 110)], fill=(236, 196, 40))  # hood
    d.polygon([(180, 180), (332, 180), (370, 450), (142, 450)], fill=(236, 196, 40))  # coat
    d.rectangle((352, 250, 392, 310), outline=(250, 240, 200), width=6)  # lantern
    d.ellipse((360, 262, 384, 298), fill=(255, 220, 120))
    return img


def _coast() -> Image.Image:
    """A cliff, a lighthouse and the sea at dusk: the place."""
    img = Image.new("RGB", (768, 432), (44, 52, 92))
    d = ImageDraw.Draw(img)
    d.rectangle((0, 300, 768, 432), fill=(24, 60, 90))  # sea
    d.polygon([(420, 432), (520, 230), (768, 220), (768, 432)], fill=(52, 48, 44))  # cliff
    d.rectangle((600, 90, 640, 230), fill=(230, 230, 236))  # tower
    d.rectangle((600, 130, 640, 150), fill=(200, 40, 40))
    d.polygon([(640, 100), (768, 70), (768, 130)], fill=(250, 236, 150))  # beam
    return img
