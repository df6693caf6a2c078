"""A suspension racing what it stops, with real threads: invitations posted at once
to a live server, and signups through the member's link while it is revoked. Either
the racer was counted before the suspension committed, or it is refused; the
counters always match the rows."""

from __future__ import annotations

import threading
import typing as t

import pytest
import sqlalchemy as sa
from flask import Flask

from flask_kaleo import Kaleo
from flask_kaleo.exceptions import InvitingSuspended
from tests.helpers import POOL
from tests.helpers import Browser
from tests.helpers import Reply
from tests.helpers import assert_counters_match_rows
from tests.helpers import csrf_token
from tests.helpers import kaleo_of
from tests.helpers import new_user
from tests.helpers import race
from tests.helpers import signed_in_session
from tests.helpers import user_count
from tests.hostapp import User
from tests.hostapp import db

pytestmark = [
    pytest.mark.all_backends,
    pytest.mark.settings(
        SQLALCHEMY_ENGINE_OPTIONS=POOL, KALEO_ALLOW_LINKS=True, KALEO_INVITE_ONLY=True
    ),
]
REASON = "Spam"


def suspend(app: Flask, user: User, barrier: threading.Barrier, **options: t.Any) -> str:
    """Staff suspend ``user`` once the racers are lined up."""
    with app.app_context():
        member = db.session.get_one(User, user.id)
        barrier.wait()
        kaleo_of(app).suspend_inviting(member, REASON, by="staff", **options)
    return "suspended"


def suspended_at(app: Flask, user: User) -> t.Any:
    with app.app_context():
        stat = kaleo_of(app).allocation(db.session.get_one(User, user.id))
        assert stat.inviting_suspended
        return stat.inviting_suspended_at


@pytest.mark.parametrize("round_", range(3))
def test_invitations_racing_a_suspension(
    app: Flask, live_port: int, outbox: list[t.Any], kaleo: Kaleo[User], round_: int
) -> None:
    """Eight browsers each post invitations one after another while staff suspend
    their member: every invitation was counted before the suspension (sent before
    it was set), each later one is refused as suspended, none as anything else."""
    alice = new_user(app, "alice@example.com", 100)
    session = signed_in_session(app, alice)

    def work(i: int, barrier: threading.Barrier) -> list[Reply] | str:
        if i == 8:
            return suspend(app, alice, barrier)
        browser = Browser(live_port, session)
        browser.open_page()
        barrier.wait()
        replies = []
        for number in range(6):
            replies.append(browser.invite(f"friend{i}-{number}@example.com"))
            if replies[-1].json["status"] != "OK":
                break
        return replies

    *posted, staff = race(9, work)

    assert staff == "suspended"
    replies = [reply for replies in posted for reply in t.cast(list[Reply], replies)]
    sent = [reply for reply in replies if reply.json["status"] == "OK"]
    for reply in replies:
        if reply.json["status"] != "OK":
            assert reply.json["code"] == "inviting_suspended", reply.json
    since = suspended_at(app, alice)
    with app.app_context():
        _, invites_sent, _ = assert_counters_match_rows(alice.id)
        assert invites_sent == len(sent)
        model = kaleo.JoinInvitation
        times = db.session.scalars(sa.select(model.sent_at)).all()
        assert len(times) == len(sent) and all(at < since for at in times), (since, times)
        with app.test_request_context(), pytest.raises(InvitingSuspended):
            kaleo.invite(db.session.get_one(User, alice.id), "late@example.com")
    assert len(outbox) == len(sent)
    refused = len(replies) - len(sent)
    print(f"8 inviters vs a suspension: {len(sent)} counted before, {refused} refused")


@pytest.fixture
def invite_only_signup(app: Flask, kaleo: Kaleo[User]) -> None:
    """``/beta-join``: the host app's signup behind ``kaleo.invitation_required``."""
    view = kaleo.invitation_required(app.view_functions["join"])
    app.add_url_rule("/beta-join", "beta_join", view, methods=["POST"])


def visitor(app: Flask, port: int) -> Browser:
    client = app.test_client()
    token = csrf_token(client)
    cookie = client.get_cookie("session")
    assert cookie is not None
    return Browser(port, ({"session": cookie.value}, token))


@pytest.mark.parametrize("round_", range(3))
def test_revoke_pending_racing_signups_through_a_link(
    app: Flask, live_port: int, kaleo: Kaleo[User], invite_only_signup: None, round_: int
) -> None:
    """Staff suspend a member with ``revoke_pending`` while ten people sign up through
    their 6-use link: no one joins after the revoke, the accounts, the uses, what
    was given back and the counters all agree."""
    alice = new_user(app, "alice@example.com", 10)
    with app.test_request_context():
        link = kaleo.create_link(db.session.get_one(User, alice.id), 6)
        link_id, url = link.id, link.url
    assert url is not None
    path = "/" + url.split("/", 3)[3]
    browsers = [visitor(app, live_port) for _ in range(10)]

    def work(i: int, barrier: threading.Barrier) -> Reply | str:
        if i == 10:
            return suspend(app, alice, barrier, revoke_pending=True)
        browser = browsers[i]
        assert browser.request("GET", path).status_code == 303
        barrier.wait()
        form = {"email": f"joiner{i}@example.com", "csrf_token": browser.csrf_token}
        return browser.request("POST", "/beta-join", form)

    *signups, staff = race(11, work)

    assert staff == "suspended"
    codes = [t.cast(Reply, reply).status_code for reply in signups]
    assert set(codes) <= {201, 403, 410}, codes
    joined = codes.count(201)
    assert joined <= 6 and user_count(app) == 1 + joined
    with app.app_context():
        allocated, sent, accepted = assert_counters_match_rows(alice.id)
        assert (allocated, sent, accepted) == (10, joined, joined)
        stored = db.session.get_one(kaleo.InvitationLink, link_id)
        assert stored.revoked_at is not None
        assert (stored.uses, stored.given_back) == (joined, 6 - joined)
        use = kaleo.LinkUse
        times = db.session.scalars(sa.select(use.joined_at).where(use.link_id == link_id)).all()
        assert len(times) == joined and all(at < stored.revoked_at for at in times)
    print(f"revoke_pending vs 10 signups: {joined} joined before the revoke")
