"""Time the sent list for a member with a long history: flat whatever its length.

    python benchmarks/sent_list.py [--postgresql URL] [--repeat 30] [--sizes 1000 10000 100000]

In-process with Flask's test client, for a member who has sent 1,000, 10,000 and
100,000 invitations (mostly accepted, some pending, expired and revoked): the page of
the three macros (the newest 50 rows and the counts by state) and the page one
"Older" link away, each as median and 95th-percentile milliseconds, its size in bytes
and its SQL statements. Uses the benchmarks' own host app (benchmarks/support.py);
point --postgresql at a throwaway database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import re
import statistics
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
from benchmarks.support import make_user  # noqa: E402

BATCH = 10_000
Row = tuple[str, int, str, float, float, int, int]


def history(user_id: int, count: int) -> None:
    """``count`` invitations sent by ``user_id``, a minute apart, the newest now: 7 in
    10 accepted, 1 revoked, 1 expired, 1 pending."""
    now = dt.datetime.now(dt.timezone.utc)
    for start in range(0, count, BATCH):
        rows = []
        for i in range(start, min(start + BATCH, count)):
            sent_at = now - dt.timedelta(minutes=count - i)
            kind = i % 10
            status = "accepted" if kind < 7 else "revoked" if kind == 7 else "sent"
            address = f"old{i}@example.com"
            rows.append(
                {
                    "from_user_id": user_id,
                    "email": address,
                    "email_key": address,
                    "pending_email_key": address if status == "sent" else None,
                    "sent_at": sent_at,
                    "delivered_at": sent_at,
                    "expires_at": sent_at + dt.timedelta(days=1 if kind == 8 else 3650),
                    "status": status,
                    "token_digest": f"{i:064x}",
                }
            )
        db.session.execute(sa.insert(kaleo.JoinInvitation), rows)
    db.session.commit()


def measure(url: str, sent: int, repeat: int) -> list[Row]:
    app = create_app(url)
    with app.app_context():
        db.drop_all()
        db.create_all()
        user = make_user("alice@example.com", allocation=-1)
        user_id = user.id
        history(user_id, sent)
        backend = db.engine.dialect.name
        if backend == "postgresql":  # as autovacuum leaves a table: index-only scans
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("VACUUM ANALYZE kaleo_join_invitation"))
        engine = db.engine
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(user_id)
    first = client.get("/").get_data(as_text=True)
    older = re.search(r'href="([^"]+)" class="kaleo-older"', first)
    assert older is not None and older.group(1), "no Older link"
    results = []
    for name, path in (("newest page", "/"), ("older page", html.unescape(older.group(1)))):
        times, counts, size = [], [], 0
        counter = StatementCounter(engine)
        for _ in range(repeat):
            with counter:
                start = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, response.status_code
            counts.append(counter.count)
            size = len(response.get_data())
        p95 = statistics.quantiles(times, n=20)[-1]
        results.append((backend, sent, name, statistics.median(times), p95, size, max(counts)))
    with app.app_context():
        db.drop_all()
        db.engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgresql", metavar="URL")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    options = parser.parse_args()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as directory:
        urls = [f"sqlite:///{Path(directory) / 'bench.sqlite'}"]
        if options.postgresql:
            urls.append(options.postgresql)
        for url in urls:
            for sent in options.sizes:
                rows += measure(url, sent, options.repeat)
    print("| backend | already sent | page | median ms | p95 ms | bytes | SQL statements |")
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: |")
    for backend, sent, name, median, p95, size, count in rows:
        print(f"| {backend} | {sent:,} | {name} | {median:.1f} | {p95:.1f} | {size:,} | {count} |")


if __name__ == "__main__":
    main()
