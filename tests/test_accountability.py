"""The accountability report: per inviter, sent and accepted from the counters, the
acceptance rate and the invitees in trouble (the app's condition, or suspended), with
its sorts and ready filters, one statement on every database."""

from __future__ import annotations

import typing as t

import pytest
import sqlalchemy as sa
from flask import Flask

from flask_kaleo import Kaleo
from flask_kaleo.core import lineage as lineages
from flask_kaleo.models import utcnow
from tests.helpers import Statements
from tests.helpers import make_user
from tests.hostapp import User
from tests.hostapp import db

pytestmark = pytest.mark.all_backends


@pytest.fixture
def ctx(app: Flask) -> t.Iterator[None]:
    with app.test_request_context():
        yield


def counters(kaleo: Kaleo[User], user: User, sent: int, accepted: int) -> None:
    db.session.add(
        kaleo.InvitationStat(
            user_id=user.id, invites_allocated=20, invites_sent=sent, invites_accepted=accepted
        )
    )
    db.session.commit()


def suspend(kaleo: Kaleo[User], user: User) -> None:
    """Suspend ``user``'s inviting in their stat row (as staff would)."""
    stat = kaleo.InvitationStat
    if db.session.get(stat, user.id) is None:
        counters(kaleo, user, 0, 0)
    db.session.execute(
        sa.update(stat).where(stat.user_id == user.id).values(inviting_suspended_at=utcnow())
    )
    db.session.commit()


def brought(kaleo: Kaleo[User], inviter: User, *emails: str) -> list[User]:
    users = [make_user(email) for email in emails]
    for user in users:
        lineages.record_referral(kaleo.store, user.id, user.email, inviter.id, inviter.email)
    db.session.commit()
    return users


@pytest.fixture
def site(kaleo: Kaleo[User], ctx: None) -> dict[str, User]:
    """alice: 10 sent, 3 accepted, two invitees flagged ("bad...") and one fine; bob: 5
    sent, 5 accepted, one invitee suspended and one fine; carol: nothing sent."""
    alice, bob, carol = (make_user(f"{n}@example.com") for n in ("alice", "bob", "carol"))
    counters(kaleo, alice, 10, 3)
    counters(kaleo, bob, 5, 5)
    counters(kaleo, carol, 0, 0)
    brought(kaleo, alice, "bad1@example.com", "bad2@example.com", "fine1@example.com")
    suspended, _ = brought(kaleo, bob, "quiet@example.com", "fine2@example.com")
    suspend(kaleo, suspended)
    return {"alice": alice, "bob": bob, "carol": carol}


def flag_bad(kaleo: Kaleo[User]) -> None:
    kaleo.members_in_trouble(lambda: User.email.like("bad%"))


def lines(records: t.Any) -> list[tuple[str, int, int, int]]:
    return [(r.label, r.sent, r.accepted, r.in_trouble) for r in records]


def test_the_report_counts_invitees_in_trouble(
    kaleo: Kaleo[User], site: dict[str, User], statements: Statements
) -> None:
    with statements:
        without_hook = kaleo.accountability()
    assert statements.count == 1
    assert lines(without_hook) == [
        ("alice@example.com", 10, 3, 0),
        ("bob@example.com", 5, 5, 1),
    ]
    flag_bad(kaleo)
    with statements:
        report = kaleo.accountability()
    assert statements.count == 1
    assert lines(report) == [("alice@example.com", 10, 3, 2), ("bob@example.com", 5, 5, 1)]
    assert [r.acceptance_rate for r in report] == [0.3, 1.0]
    assert [r.suspended for r in report] == [False, False]


@pytest.mark.parametrize(
    ("sort", "descending", "expected"),
    [
        ("sent", False, ["bob", "alice"]),
        ("accepted", True, ["bob", "alice"]),
        ("rate", False, ["alice", "bob"]),
        ("rate", True, ["bob", "alice"]),
        ("trouble", True, ["alice", "bob"]),
        ("trouble", False, ["bob", "alice"]),
    ],
)
def test_the_report_sorts(
    kaleo: Kaleo[User],
    site: dict[str, User],
    statements: Statements,
    sort: t.Any,
    descending: bool,
    expected: list[str],
) -> None:
    flag_bad(kaleo)
    with statements:
        report = kaleo.accountability(sort=sort, descending=descending)
    assert statements.count == 1
    assert [r.label.split("@")[0] for r in report] == expected
    assert len(kaleo.accountability(sort=sort, descending=descending, limit=1)) == 1


def test_the_ready_filters(
    kaleo: Kaleo[User], site: dict[str, User], statements: Statements
) -> None:
    flag_bad(kaleo)
    with statements:
        troubled = kaleo.accountability(min_in_trouble=2)
        low = kaleo.accountability(max_rate=0.7, min_sent=5)
    assert statements.count == 2
    assert lines(troubled) == [("alice@example.com", 10, 3, 2)]
    assert lines(low) == [("alice@example.com", 10, 3, 2)]
    assert kaleo.accountability(max_rate=0.7, min_sent=11) == []
    assert kaleo.accountability(max_rate=0.3) == []  # below the rate, not at it
    assert lines(kaleo.accountability(min_in_trouble=1, sort="sent")) == lines(
        kaleo.accountability()
    )


def test_deleted_invitees_and_suspended_inviters(kaleo: Kaleo[User], site: dict[str, User]) -> None:
    flag_bad(kaleo)
    bad = db.session.scalars(sa.select(User).where(User.email == "bad1@example.com")).one()
    referral = kaleo.Referral
    db.session.execute(  # what ON DELETE SET NULL leaves (SQLite enforces no keys here)
        sa.update(referral).where(referral.invitee_id == bad.id).values(invitee_id=None)
    )
    db.session.delete(bad)
    db.session.commit()
    suspend(kaleo, site["alice"])
    [alice, bob] = kaleo.accountability()
    assert (alice.in_trouble, alice.suspended) == (1, True)
    assert (bob.in_trouble, bob.suspended) == (1, False)


@pytest.mark.parametrize("flagged", [True, False])
def test_the_trouble_filter_keeps_what_the_counts_say(
    kaleo: Kaleo[User], site: dict[str, User], flagged: bool
) -> None:
    """``min_in_trouble`` (found from the members in trouble first) keeps exactly the
    lines whose count, taken inviter by inviter, reaches it; a member both flagged
    and suspended counts once."""
    if flagged:
        flag_bad(kaleo)
    bad1 = db.session.scalars(sa.select(User).where(User.email == "bad1@example.com")).one()
    suspend(kaleo, bad1)  # flagged too when the app's condition is on
    (dave,) = brought(kaleo, site["carol"], "bad3@example.com")
    counters(kaleo, dave, 1, 0)
    suspend(kaleo, dave)
    for sort in ("sent", "accepted", "rate"):
        every = kaleo.accountability(sort=sort)  # counted line by line
        assert len(every) == 3
        for minimum in (0, 1, 2, 3):
            kept = kaleo.accountability(sort=sort, min_in_trouble=minimum)
            assert lines(kept) == lines([r for r in every if r.in_trouble >= minimum])
    expected = {"alice@example.com": 2 if flagged else 1, "bob@example.com": 1}
    assert {r.label: r.in_trouble for r in kaleo.accountability()} == {
        **expected,
        "bad3@example.com": 0,
    }
    by_trouble = kaleo.accountability(sort="trouble")
    assert [r.in_trouble for r in by_trouble] == sorted(
        (r.in_trouble for r in by_trouble), reverse=True
    )
