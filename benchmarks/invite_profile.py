"""Where one invite request spends its time: cProfile over many, in process.

    python benchmarks/invite_profile.py [--postgresql URL] [--requests 300] [--lines 25]
                                        [--sort cumulative|tottime]

A signed-in member posts the invite form (as kaleo's original jQuery snippet does)
``--requests`` times with Flask's test client, after a few uncounted requests; the
profile of those requests is printed, sorted by cumulative time by default. Runs on
SQLite unless --postgresql names a throwaway database (its schema is dropped after).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.support import AJAX  # noqa: E402
from benchmarks.support import create_app  # noqa: E402
from benchmarks.support import db  # noqa: E402
from benchmarks.support import find_csrf_token  # noqa: E402
from benchmarks.support import make_user  # noqa: E402

WARMUP = 10


def profile(url: str, requests: int) -> pstats.Stats:
    app = create_app(url)
    with app.app_context():
        db.drop_all()
        db.create_all()
        make_user("alice@example.com", allocation=requests + WARMUP)
    try:
        client = app.test_client()
        token = find_csrf_token(client.get("/login").get_data(as_text=True))
        client.post("/login", data={"email": "alice@example.com", "csrf_token": token})
        token = find_csrf_token(client.get("/").get_data(as_text=True))

        def invite(n: int) -> None:
            response = client.post(
                "/invites/invite",
                headers=AJAX,
                data={"email_address": f"new{n}@example.net", "csrf_token": token},
            )
            assert response.json and response.json["status"] == "OK", response.get_data()

        for n in range(WARMUP):
            invite(n)
        profiler = cProfile.Profile()
        profiler.enable()
        for n in range(WARMUP, WARMUP + requests):
            invite(n)
        profiler.disable()
        return pstats.Stats(profiler)
    finally:
        with app.app_context():
            db.drop_all()
            db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgresql", metavar="URL")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--lines", type=int, default=25)
    parser.add_argument("--sort", choices=["cumulative", "tottime"], default="cumulative")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        url = options.postgresql or f"sqlite:///{Path(directory) / 'profile.sqlite'}"
        stats = profile(url, options.requests)
    stats.strip_dirs().sort_stats(options.sort).print_stats(options.lines)


if __name__ == "__main__":
    main()
