"""The staff's reads: members and invitations a keyset page at a time (filters,
cursors, pages that neither skip nor repeat a row), and the activity overview, each
one statement, on every database."""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest
from flask import Flask

from flask_kaleo import Kaleo
from flask_kaleo.core import keyset
from flask_kaleo.models import utcnow
from tests.helpers import Statements
from tests.helpers import make_invitation
from tests.helpers import make_user
from tests.hostapp import User
from tests.hostapp import db

pytestmark = pytest.mark.all_backends

BAD_CURSORS = (
    "not a cursor!",
    "",
    keyset.encode("a string", 1),
    keyset.encode(1, 2, 3),
    keyset.encode(True),
    keyset.encode(2**70),
    "eyJ9",  # '{}': not a list
    "x" * 1000,
)


@pytest.fixture
def ctx(app: Flask) -> t.Iterator[None]:
    with app.test_request_context():
        yield


# -- members --------------------------------------------------------------------------


def test_members_pages_cover_everyone_once_with_their_counters(
    kaleo: Kaleo[User], ctx: None, statements: Statements
) -> None:
    emails = [f"member{n}@example.com" for n in range(7)]
    users = [make_user(email, allocation=4 if n == 2 else None) for n, email in enumerate(emails)]
    kaleo.invite(users[2], "friend@example.com", send=False)
    seen: list[object] = []
    after = None
    while True:
        with statements:
            page = kaleo.members(after=after, limit=3)
        assert statements.count == 1
        seen += [row.user_id for row in page.rows]
        if page.after is None:
            break
        after = page.after
    assert seen == [user.id for user in users]
    rows = {row.email: row for row in kaleo.members(limit=10).rows}
    third = rows["member2@example.com"]
    assert (third.allocated, third.sent, third.remaining, third.suspended) == (4, 1, 3, False)
    default = kaleo.store.default_allocation()
    first = rows["member0@example.com"]
    assert (first.allocated, first.sent, first.accepted, first.remaining) == (
        default,
        0,
        0,
        default,
    )


def test_members_search_matches_the_start_of_the_address_in_any_case(
    kaleo: Kaleo[User], ctx: None
) -> None:
    for email in ("Alice@example.com", "alina@example.com", "bob@example.com", "a_b@example.com"):
        make_user(email)
    found = [row.email for row in kaleo.members(search="AL", limit=10).rows]
    assert found == ["Alice@example.com", "alina@example.com"]
    assert [row.email for row in kaleo.members(search="a_", limit=10).rows] == ["a_b@example.com"]
    assert kaleo.members(search="%", limit=10).rows == []
    assert kaleo.members(search="example", limit=10).rows == []
    # No address holds a NUL, and PostgreSQL refuses one in any text it is sent.
    assert kaleo.members(search="a\x00", limit=10).rows == []


@pytest.mark.parametrize("cursor", BAD_CURSORS)
def test_members_refuse_a_bad_cursor(kaleo: Kaleo[User], ctx: None, cursor: str) -> None:
    with pytest.raises(ValueError):
        kaleo.members(after=cursor)


# -- invitations ----------------------------------------------------------------------


def test_each_state_filter_finds_its_invitations(
    kaleo: Kaleo[User], ctx: None, statements: Statements
) -> None:
    alice = make_user("alice@example.com")
    for state in ("sent", "sending", "expired", "accepted", "joined", "revoked", "undeliverable"):
        make_invitation(alice, f"{state}@example.com", state)
    make_invitation(alice, "link@example.com", "sent", link_only=True)
    expected = {
        "pending": {"sent", "sending", "link"},
        "sending": {"sending"},
        "link": {"link"},
        "expired": {"expired"},
        "accepted": {"accepted"},
        "joined": {"joined"},
        "revoked": {"revoked"},
        "undeliverable": {"undeliverable"},
    }
    for state, addresses in expected.items():
        with statements:
            page = kaleo.invitations(state=state)  # type: ignore[arg-type]
        assert statements.count == 1
        assert {i.email.split("@")[0] for i in page.rows} == addresses, state
        for invitation in page.rows:
            shown = invitation.display_status
            assert shown == state or (state == "pending" and shown in ("sent", "sending", "link"))
    assert len(kaleo.invitations().rows) == 8
    with pytest.raises(ValueError):
        kaleo.invitations(state="lost")  # type: ignore[arg-type]


def test_invitation_pages_with_equal_times_neither_skip_nor_repeat(
    kaleo: Kaleo[User], ctx: None, statements: Statements
) -> None:
    alice = make_user("alice@example.com")
    moment = utcnow().replace(microsecond=0) - dt.timedelta(hours=1)
    for n in range(7):  # five sent at the very same instant, between two others
        sent_at = moment + dt.timedelta(seconds=(n > 5) - (n == 0))
        make_invitation(alice, f"guest{n}@example.com", sent_at=sent_at)
    pages: list[list[int]] = []
    after = None
    while True:
        with statements:
            page = kaleo.invitations(after=after, limit=2)
        assert statements.count == 1
        pages.append([i.id for i in page.rows])
        if page.after is None:
            break
        after = page.after
    everything = [i for i in kaleo.invitations(limit=100).rows]
    order = sorted(everything, key=lambda i: (i.sent_at, i.id), reverse=True)
    assert [i.id for i in everything] == [i.id for i in order]
    assert [n for page in pages for n in page] == [i.id for i in order]
    assert [len(page) for page in pages] == [2, 2, 2, 1]


def test_invitations_filter_by_inviter_address_and_time(kaleo: Kaleo[User], ctx: None) -> None:
    alice = make_user("alice@example.com")
    bob = make_user("bob@example.com")
    now = utcnow()
    make_invitation(alice, "carol@example.com", sent_at=now - dt.timedelta(days=3))
    make_invitation(bob, "Carol@Example.com", sent_at=now - dt.timedelta(days=1))
    make_invitation(bob, "dave@example.com", sent_at=now)
    assert [i.email for i in kaleo.invitations(inviter=bob).rows] == [
        "dave@example.com",
        "Carol@Example.com",
    ]
    assert [i.email for i in kaleo.invitations(address="CAROL@example.COM").rows] == [
        "Carol@Example.com",
        "carol@example.com",
    ]
    assert [i.email for i in kaleo.invitations(address="carol").rows] == []
    window = kaleo.invitations(
        sent_from=now - dt.timedelta(days=2), sent_until=now - dt.timedelta(hours=1)
    )
    assert [i.email for i in window.rows] == ["Carol@Example.com"]
    both = kaleo.invitations(inviter=alice, address="carol@example.com")
    assert [i.email for i in both.rows] == ["carol@example.com"]


def test_an_address_with_a_nul_finds_no_invitation(kaleo: Kaleo[User], ctx: None) -> None:
    # PostgreSQL refuses a NUL in any text it is sent; no address holds one.
    make_invitation(make_user("alice@example.com"), "carol@example.com")
    assert kaleo.invitations(address="carol@example.com\x00").rows == []


ODD_TIMES = (
    keyset.encode("2026-01-01T00:00:00", 1),  # no time zone
    keyset.encode("0001-01-01T00:00:00+14:00", 1),  # before the first moment in UTC
    keyset.encode("9999-12-31T23:59:59-14:00", 1),  # after the last moment in UTC
)


@pytest.mark.parametrize("cursor", BAD_CURSORS + ODD_TIMES)
def test_invitations_refuse_a_bad_cursor(kaleo: Kaleo[User], ctx: None, cursor: str) -> None:
    with pytest.raises(ValueError):
        kaleo.invitations(after=cursor)


# -- activity -------------------------------------------------------------------------


def test_activity_counts_each_day_and_what_needs_attention(
    kaleo: Kaleo[User], ctx: None, statements: Statements
) -> None:
    alice = make_user("alice@example.com")
    bob = make_user("bob@example.com")
    now = utcnow()
    today = now.replace(hour=12, minute=0, second=0, microsecond=0)
    if today > now:  # never in the future
        today = now
    two_days_ago = today - dt.timedelta(days=2)
    make_invitation(alice, "a@example.com", sent_at=two_days_ago)  # sent and delivered
    make_invitation(alice, "b@example.com", sent_at=two_days_ago, delivered_at=today)
    make_invitation(alice, "c@example.com", "undeliverable", sent_at=today)
    stuck_at = now - dt.timedelta(hours=2)  # yesterday between midnight and 2 a.m.
    make_invitation(alice, "d@example.com", "sending", sent_at=stuck_at)
    make_invitation(alice, "e@example.com", "sending", sent_at=now)  # not stuck yet
    make_invitation(alice, "f@example.com", "sent", link_only=True, delivered_at=None)
    make_invitation(alice, "old@example.com", "undeliverable", sent_at=now - dt.timedelta(days=40))
    accepted = make_invitation(alice, "bob@example.com", "accepted", sent_at=two_days_ago)
    db.session.add(
        kaleo.Referral(
            invitee_id=bob.id,
            inviter_id=alice.id,
            invitee_label="bob@example.com",
            inviter_label="alice@example.com",
            joined_at=two_days_ago + dt.timedelta(hours=1),
            invitation_id=accepted.id,
        )
    )
    db.session.commit()
    with statements:
        activity = kaleo.activity(7)
    assert statements.count == 1
    assert len(activity.days) == 7 and activity.days[-1].day == now.date()
    assert [day.day for day in activity.days] == [
        now.date() - dt.timedelta(days=6 - n) for n in range(7)
    ]
    by_day = {day.day: (day.sent, day.delivered, day.accepted) for day in activity.days}
    assert by_day[two_days_ago.date()] == (3, 2, 1)
    # today: c (undeliverable, its delivered_at stays), d (after 2 a.m.), e and f sent
    sent_today = sum(1 for i in kaleo.invitations(sent_from=today.replace(hour=0)).rows)
    assert by_day[now.date()][0] == sent_today
    others = 0 if stuck_at.date() == now.date() else 1  # d, sent before midnight
    assert sum(by_day[d][0] for d in by_day if d not in (two_days_ago.date(), now.date())) == others
    assert activity.sent == sum(day.sent for day in activity.days)
    assert activity.accepted == 1
    assert activity.undeliverable == 1 and activity.stuck == 1


def test_activity_of_an_empty_site_has_every_day(kaleo: Kaleo[User], ctx: None) -> None:
    activity = kaleo.activity(30)
    assert len(activity.days) == 30
    assert all((d.sent, d.delivered, d.accepted) == (0, 0, 0) for d in activity.days)
    assert (activity.sent, activity.undeliverable, activity.stuck) == (0, 0, 0)
    with pytest.raises(ValueError):
        kaleo.activity(0)
