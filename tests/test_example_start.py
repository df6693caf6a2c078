"""The example app upgrades its database on every start: a ``flask`` command says so only
when an upgrade runs."""

from __future__ import annotations

import os
import subprocess
import sys
import typing as t
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def example_command(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``flask --app wsgi kaleo <args>`` on the example app with its instance in
    ``tmp_path``, in a child process: the logging set-up is the real CLI's."""
    (tmp_path / "wsgi.py").write_text(
        "from example_app import create_app\n"
        f"app = create_app(instance_path={str(tmp_path / 'instance')!r})\n"
    )
    env: dict[str, t.Any] = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
        "SECRET_KEY": "test",
    }
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "kaleo", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_example_app_upgrades_aloud_then_quietly(tmp_path: Path) -> None:
    first = example_command(tmp_path, "report")
    assert first.returncode == 0, first.stderr
    assert "Running upgrade  -> 75e1d50e8525" in first.stderr  # something happened
    assert "Context impl" not in first.stderr and "Will assume" not in first.stderr

    again = example_command(tmp_path, "report")
    assert again.returncode == 0, again.stderr
    assert again.stderr == ""  # nothing to upgrade, nothing to say
    assert again.stdout.startswith("Sent:")
