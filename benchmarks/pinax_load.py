"""The closed loop of benchmarks/load.py against pinax-invitations 8.0.1 on Django 4.2.

    python benchmarks/pinax_load.py --postgresql postgresql://postgres@127.0.0.1/kaleo_bench_pinax
        [--venv /work/pinax-venv] [--workers 2] [--members 8] [--duration 10] [--warmup 2]

For the comparison in the same conditions as load.py: the same gunicorn sync workers,
client threads, login-then-invite flow and counting. The Django site
(benchmarks/pinax_site.py) runs from its own virtualenv, ``--venv``, made as that
file's docstring says; only gunicorn and the site use it, this script runs anywhere.

Pinax's invite answer re-renders the member's whole list of sent invitations (one
query per row), so its cost grows with each member's history, which starts at zero.
The site's tables are dropped afterwards; point it at a throwaway database.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import typing as t
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.load import ALLOCATION  # noqa: E402
from benchmarks.load import Browser  # noqa: E402
from benchmarks.load import arguments  # noqa: E402
from benchmarks.load import closed_loop  # noqa: E402
from benchmarks.load import free_port  # noqa: E402
from benchmarks.load import report  # noqa: E402
from benchmarks.load import serve  # noqa: E402
from benchmarks.support import AJAX  # noqa: E402
from benchmarks.support import DATABASE_URL_VARIABLE  # noqa: E402

TOKEN = 'name="csrfmiddlewaretoken" value="'


def django_token(page: str) -> str:
    start = page.index(TOKEN) + len(TOKEN)
    return page[start : page.index('"', start)]


def invite_action(port: int, email: str, run: str) -> t.Callable[[int], str | None]:
    """Sign ``email`` in through the site's login route and return its invite action."""
    browser = Browser(port)
    status, page = browser.request("GET", "/login")
    assert status == 200, page[:300]
    status, page = browser.request(
        "POST", "/login", form={"email": email, "csrfmiddlewaretoken": django_token(page)}
    )
    assert status == 200, page[:300]
    status, page = browser.request("GET", "/")  # Django rotates the CSRF token on login
    assert status == 200, page[:300]
    token = django_token(page)
    name = email.split("@")[0]

    def invite(n: int) -> str | None:
        status, body = browser.request(
            "POST",
            "/invitations/invite/",
            form={"email_address": f"{name}-{run}-{n}@example.net", "csrfmiddlewaretoken": token},
            headers=AJAX,
        )
        if status != 200 or "errorlist" in json.loads(body)["html"]:
            return f"{status} {body[:300]}"
        return None

    return invite


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--venv", type=Path, default=Path("/work/pinax-venv"))
    options = parser.parse_args()

    python = str(options.venv / "bin" / "python")
    site = str(ROOT / "benchmarks" / "pinax_site.py")
    # Django takes a plain libpq URL: drop SQLAlchemy's "+driver" if there is one.
    scheme, rest = options.postgresql.split("://", 1)
    env = {**os.environ, DATABASE_URL_VARIABLE: f"{scheme.split('+')[0]}://{rest}"}

    def site_command(*args: str) -> str:
        return subprocess.run(
            [python, site, *args], env=env, check=True, capture_output=True, text=True
        ).stdout

    site_command("teardown")
    try:
        site_command("setup", str(options.members), str(ALLOCATION))
        statements = int(site_command("count"))
        port = free_port()
        command = [
            python,
            "-m",
            "gunicorn",
            "--workers",
            str(options.workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "benchmarks.pinax_site:application",
        ]
        with serve(command, port, "/login", env):
            run = f"{int(time.time())}"
            members = [f"member{i}@example.com" for i in range(options.members)]
            actions = [invite_action(port, email, run) for email in members]
            outcome = closed_loop(actions, options.warmup, options.duration)
    finally:
        site_command("teardown")

    report("pinax-invitations 8.0.1", options, outcome, statements)


if __name__ == "__main__":
    main()
