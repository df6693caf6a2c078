"""Time the invite request and the page that renders the three macros.

    python benchmarks/requests.py [--postgresql URL] [--repeat 50]

In-process with Flask's test client, for a user who has already sent 0, 100 and 1,000
invitations: median and 95th-percentile milliseconds, and SQL statements per request.
Uses the benchmarks' own host app (benchmarks/support.py); point --postgresql at a
throwaway database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.support import AJAX  # noqa: E402
from benchmarks.support import StatementCounter  # noqa: E402
from benchmarks.support import create_app  # noqa: E402
from benchmarks.support import db  # noqa: E402
from benchmarks.support import find_csrf_token  # noqa: E402
from benchmarks.support import kaleo  # noqa: E402
from benchmarks.support import make_user  # noqa: E402


def history(user_id: int, count: int) -> None:
    """``count`` invitations already sent by ``user_id``, inserted in one statement."""
    if not count:
        return
    now = dt.datetime.now(dt.timezone.utc)
    rows = [
        {
            "from_user_id": user_id,
            "email": f"old{i}@example.com",
            "email_key": f"old{i}@example.com",
            "pending_email_key": f"old{i}@example.com",
            "sent_at": now,
            "expires_at": now + dt.timedelta(days=7),
            "status": "sent",
            "token_digest": f"{i:064x}",
        }
        for i in range(count)
    ]
    db.session.execute(sa.insert(kaleo.JoinInvitation), rows)
    db.session.commit()


def measure(url: str, sent: int, repeat: int) -> list[tuple[str, int, str, float, float, float]]:
    app = create_app(url, WTF_CSRF_ENABLED=True)
    with app.app_context():
        db.drop_all()
        db.create_all()
        user = make_user("alice@example.com", allocation=sent + repeat + 10)
        user_id = user.id
        history(user_id, sent)
        db.session.execute(sa.update(kaleo.InvitationStat).values(invites_sent=sent))
        db.session.commit()
        backend = db.engine.dialect.name
        engine = db.engine
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(user_id)
    token = find_csrf_token(client.get("/").get_data(as_text=True))
    results = []
    for name, call in (
        (
            "invite",
            lambda i: client.post(
                "/invites/invite",
                headers=AJAX,
                data={"email_address": f"new{i}@example.com", "csrf_token": token},
            ),
        ),
        ("page", lambda i: client.get("/")),
    ):
        times, counts = [], []
        counter = StatementCounter(engine)
        for i in range(repeat):
            with counter:
                start = time.perf_counter()
                response = call(i)
                times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, response.get_data(as_text=True)[:200]
            counts.append(counter.count)
        p95 = statistics.quantiles(times, n=20)[-1]
        results.append((backend, sent, name, statistics.median(times), p95, max(counts)))
    with app.app_context():
        db.drop_all()
        db.engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgresql", metavar="URL")
    parser.add_argument("--repeat", type=int, default=50)
    options = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        urls = [f"sqlite:///{Path(directory) / 'bench.sqlite'}"]
        if options.postgresql:
            urls.append(options.postgresql)
        for url in urls:
            for sent in (0, 100, 1000):
                rows += measure(url, sent, options.repeat)
    print("| backend | already sent | request | median ms | p95 ms | SQL statements |")
    print("| --- | ---: | --- | ---: | ---: | ---: |")
    for backend, sent, name, median, p95, count in rows:
        print(f"| {backend} | {sent:,} | {name} | {median:.1f} | {p95:.1f} | {count} |")


if __name__ == "__main__":
    main()
