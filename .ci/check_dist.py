"""Check what the built sdist and wheel contain (run by .ci/gates).

The wheel must carry every template (mapped under flask_kaleo/templates/), kaleo.js
and py.typed, and nothing outside flask_kaleo/; the sdist must carry the tests, the
docs, the templates and the changelog. Usage: python .ci/check_dist.py DIST_DIR
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def tracked(*folders: str) -> list[str]:
    """Files under ``folders`` that git tracks (or, outside git, that exist)."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "--", *folders],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        return [line for line in out.splitlines() if line]
    except (OSError, subprocess.CalledProcessError):
        return [
            str(p.relative_to(ROOT))
            for folder in folders
            for p in (ROOT / folder).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and "_build" not in p.parts
        ]


def check_wheel(path: Path) -> list[str]:
    names = set(zipfile.ZipFile(path).namelist())
    expected = {"flask_kaleo/py.typed", "flask_kaleo/static/kaleo.js"}
    expected |= {f"flask_kaleo/{name}" for name in tracked("templates")}
    expected |= {name for name in tracked("flask_kaleo") if not name.endswith(".pyc")}
    problems = [f"wheel lacks {name}" for name in sorted(expected - names)]
    stray = [n for n in names if not n.startswith(("flask_kaleo/", "flask_kaleo-"))]
    problems += [f"wheel has a file outside flask_kaleo/: {name}" for name in sorted(stray)]
    return problems


def check_sdist(path: Path) -> list[str]:
    with tarfile.open(path) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    expected = set(tracked("flask_kaleo", "templates", "tests", "docs", "constraints"))
    expected |= {"pyproject.toml", "README.md", "CHANGES.rst", "CONTRIBUTING.md"}
    return [f"sdist lacks {name}" for name in sorted(expected - names)]


def main(dist: str) -> int:
    folder = Path(dist)
    wheels = sorted(folder.glob("*.whl"))
    sdists = sorted(folder.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        print(f"expected one wheel and one sdist in {folder}, found {wheels + sdists}")
        return 1
    problems = check_wheel(wheels[0]) + check_sdist(sdists[0])
    for problem in problems:
        print(problem)
    if not problems:
        print(f"{wheels[0].name} and {sdists[0].name} hold what they should")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
