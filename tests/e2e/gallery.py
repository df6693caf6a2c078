"""The documentation's gallery (docs/gallery.md): pictures the page sweep takes into
``test-artifacts/gallery/``, and, with ``KALEO_UPDATE_GALLERY=1``, those the page shows
also into ``docs/_static/gallery/`` (made smaller with ``pngquant`` when it is
installed)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import typing as t
from pathlib import Path

from tests.e2e.live import ARTIFACTS

if t.TYPE_CHECKING:
    from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
TAKEN = ARTIFACTS / "gallery"
PUBLISHED = ROOT / "docs" / "_static" / "gallery"
PAGE = ROOT / "docs" / "gallery.md"
NAMED = re.compile(r"_static/gallery/([A-Za-z0-9_.-]+\.png)")
PNGQUANT_TIMEOUT = 60


def picture_name(shot: str, lang: str, width: int) -> str:
    return f"{shot}-{lang}-{width}.png"


def take(page: Page, selector: str, name: str) -> Path:
    """Save the first element ``selector`` matches (the window for ``""``) as ``name``;
    with ``KALEO_UPDATE_GALLERY=1``, published too if docs/gallery.md shows it."""
    TAKEN.mkdir(parents=True, exist_ok=True)
    path = TAKEN / name
    if selector:
        page.locator(selector).first.screenshot(path=str(path), animations="disabled")
    else:
        page.screenshot(path=str(path), animations="disabled")
    if os.environ.get("KALEO_UPDATE_GALLERY") == "1" and name in named_pictures():
        publish(path)
    return path


def publish(path: Path) -> None:
    """Copy a picture into docs/_static/gallery/, in 256 colours when pngquant is there
    (a screenshot is mostly flat colour: a third of the size, no visible change)."""
    PUBLISHED.mkdir(parents=True, exist_ok=True)
    target = PUBLISHED / path.name
    pngquant = shutil.which("pngquant")
    if pngquant is None:
        shutil.copyfile(path, target)
        return
    command = [pngquant, "--force", "--strip", "--skip-if-larger", "--output", str(target),
               "256", str(path)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, timeout=PNGQUANT_TIMEOUT)
    if done.returncode != 0:  # 98/99: no smaller with the quality kept; keep it whole
        shutil.copyfile(path, target)


def named_pictures() -> list[str]:
    """The pictures docs/gallery.md shows, in its order."""
    return NAMED.findall(PAGE.read_text(encoding="utf-8"))


def published_pictures() -> set[str]:
    return {path.name for path in PUBLISHED.glob("*.png")}
