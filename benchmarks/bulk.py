"""Time ``add-invites`` and ``topoff-invites`` on many users.

    python benchmarks/bulk.py                                  # SQLite, 10k/100k/1M
    python benchmarks/bulk.py --postgresql postgresql+psycopg://postgres@127.0.0.1/kaleo_bench
    python benchmarks/bulk.py --sizes 10000 100000

Each size starts from a fresh schema: N users made with one set-based INSERT. In the
"mixed" scenario half of them have a stat row (a quarter with nothing left) and the
other half none (they count with the default allocation); in the "first-day" scenario
nobody has a row yet, so ``add-invites`` writes one for every user. Then
``kaleo.grant(5)`` and ``kaleo.grant(10, top_off=True)`` run once each, timed, with
their SQL statements counted.
Uses the benchmarks' own host app (benchmarks/support.py); on PostgreSQL the stat table
gets the fill factor docs/databases.md adds in a migration. The database is dropped clean
afterwards; point it at a throwaway database.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.support import StatementCounter  # noqa: E402
from benchmarks.support import create_app  # noqa: E402
from benchmarks.support import db  # noqa: E402
from benchmarks.support import kaleo  # noqa: E402

FILL = {
    "postgresql": """
        INSERT INTO "user" (id, email)
        SELECT g, 'user' || g || '@example.com' FROM generate_series(1, :n) AS g
    """,
    "sqlite": """
        WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < :n)
        INSERT INTO "user" (id, email) SELECT i, 'user' || i || '@example.com' FROM g
    """,
}
# Even ids get a stat row: one in two of those has spent its whole allocation.
STATS = """
    INSERT INTO kaleo_invitation_stat (user_id, invites_allocated, invites_sent, invites_accepted)
    SELECT id, 2, CASE WHEN id % 4 = 0 THEN 2 ELSE 1 END, 0 FROM "user" WHERE id % 2 = 0
"""

# The opt-in migration step of docs/databases.md: room in each page for HOT updates.
STAT_FILLFACTOR = "ALTER TABLE kaleo_invitation_stat SET (fillfactor = 60)"


Row = tuple[str, str, int, str, float, int]


def run(url: str, sizes: list[int], scenarios: list[str]) -> list[Row]:
    app = create_app(url)
    rows = []
    with app.app_context():
        backend = db.engine.dialect.name
        for scenario, n in ((scenario, n) for scenario in scenarios for n in sizes):
            db.drop_all()
            db.create_all()
            with db.engine.begin() as connection:
                if backend == "postgresql":
                    connection.exec_driver_sql(STAT_FILLFACTOR)
                connection.execute(sa.text(FILL[backend]), {"n": n})
                if scenario == "mixed":
                    connection.execute(sa.text(STATS))
                if backend == "postgresql":
                    connection.exec_driver_sql("ANALYZE")
            for command, call in (
                ("add-invites 5", lambda: kaleo.grant(5)),
                ("topoff-invites 10", lambda: kaleo.grant(10, top_off=True)),
            ):
                with StatementCounter(db.engine) as counter:
                    start = time.perf_counter()
                    changed = call()
                    seconds = time.perf_counter() - start
                rows.append((backend, scenario, n, command, seconds, counter.count))
                print(
                    f"  {backend} {scenario:<9} {n:>9,} {command:<18} {seconds:7.3f} s"
                    f" {counter.count} statements, {changed:,} users changed",
                    flush=True,
                )
        db.drop_all()
        db.session.remove()
        db.engine.dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgresql", metavar="URL", help="also run on this PostgreSQL database")
    parser.add_argument("--no-sqlite", action="store_true", help="skip SQLite")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument(
        "--scenarios", nargs="+", choices=["mixed", "first-day"], default=["mixed", "first-day"]
    )
    options = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        if not options.no_sqlite:
            sqlite_url = f"sqlite:///{Path(directory) / 'bench.sqlite'}"
            rows += run(sqlite_url, options.sizes, options.scenarios)
        if options.postgresql:
            rows += run(options.postgresql, options.sizes, options.scenarios)
    print("\n| backend | scenario | users | command | seconds | SQL statements |")
    print("| --- | --- | ---: | --- | ---: | ---: |")
    for backend, scenario, n, command, seconds, statements in rows:
        print(f"| {backend} | {scenario} | {n:,} | `{command}` | {seconds:.3f} | {statements} |")


if __name__ == "__main__":
    main()
