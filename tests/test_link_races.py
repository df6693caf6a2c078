"""Shareable links under real concurrency on PostgreSQL and MariaDB, through HTTP: a
threaded werkzeug server serves the host app and every racer is a real HTTP client
with its own cookies (see tests/test_races.py for the pattern)."""

from __future__ import annotations

import threading
import typing as t
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask

from flask_kaleo import Kaleo
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
    pytest.mark.backends("postgresql", "mariadb"),
    pytest.mark.settings(
        SQLALCHEMY_ENGINE_OPTIONS=POOL, KALEO_ALLOW_LINKS=True, KALEO_INVITE_ONLY=True
    ),
]


@pytest.fixture(autouse=True)
def invite_only_signup(app: Flask, kaleo: Kaleo[User]) -> None:
    """``/beta-join``: the host app's signup behind ``kaleo.invitation_required``, as an
    invite-only site has it (an open signup would let a loser join without the link)."""
    view = kaleo.invitation_required(app.view_functions["join"])
    app.add_url_rule("/beta-join", "beta_join", view, methods=["POST"])


def visitor(app: Flask, port: int) -> Browser:
    """A browser of someone not signed in, with a CSRF token for the signup form."""
    client = app.test_client()
    token = csrf_token(client)
    cookie = client.get_cookie("session")
    assert cookie is not None
    return Browser(port, ({"session": cookie.value}, token))


def new_link(app: Flask, inviter: User, uses: int) -> tuple[int, str]:
    with app.test_request_context():
        link = kaleo_of(app).create_link(db.session.get_one(User, inviter.id), uses)
        assert link.url is not None
        return link.id, urlsplit(link.url).path


def sign_up(browser: Browser, path: str, email: str, barrier: threading.Barrier) -> Reply:
    """Follow the link, wait for the others, then sign up through the host app."""
    assert browser.request("GET", path).status_code == 303
    barrier.wait()
    form = {"email": email, "csrf_token": browser.csrf_token}
    return browser.request("POST", "/beta-join", form)


def counters(app: Flask, inviter: User, link_id: int) -> tuple[int, int, int, int | None]:
    """The inviter's sent and accepted counters (checked against the rows), and the
    link's uses and what it gave back."""
    with app.app_context():
        _, sent, accepted = assert_counters_match_rows(inviter.id)
        link = db.session.get_one(kaleo_of(app).InvitationLink, link_id)
        return sent, accepted, link.uses, link.given_back


def test_thirty_signups_through_a_five_use_link(
    app: Flask, live_port: int, kaleo: Kaleo[User]
) -> None:
    """30 people sign up through one 5-use link at once: exactly 5 accounts are
    created, ``uses`` is 5, and the others are told the link is used up."""
    alice = new_user(app, "alice@example.com", 10)
    link_id, path = new_link(app, alice, 5)
    browsers = [visitor(app, live_port) for _ in range(30)]

    def work(i: int, barrier: threading.Barrier) -> Reply:
        return sign_up(browsers[i], path, f"joiner{i}@example.com", barrier)

    results = race(30, work)

    codes = [r.status_code if isinstance(r, Reply) else r for r in results]
    assert codes.count(201) == 5, codes
    assert codes.count(410) + codes.count(403) == 25, codes  # refused at signup or by the guard
    for reply in results:
        if reply.status_code == 410:
            assert "used by as many people as it allows" in reply.text
    assert user_count(app) == 1 + 5
    assert counters(app, alice, link_id) == (5, 5, 5, None)
    print(
        f"30 signups, 5 uses: {codes.count(201)} joined, {codes.count(410)} refused at"
        f" accept, {codes.count(403)} at the guard"
    )
    with app.app_context():
        joined = db.session.scalars(sa.select(kaleo.LinkUse.email)).all()
        accounts = db.session.scalars(sa.select(User.email).where(User.id != alice.id)).all()
        assert sorted(joined) == sorted(accounts)


def test_links_and_invitations_at_once_never_overspend(
    app: Flask, live_port: int, outbox: list[t.Any]
) -> None:
    """One member with 10 left posts 12 invitations and 6 three-use links at once:
    whatever wins, the allowance is never overspent and the counters match the rows."""
    alice = new_user(app, "alice@example.com", 10)
    session = signed_in_session(app, alice)

    def work(i: int, barrier: threading.Barrier) -> tuple[str, Reply]:
        browser = Browser(live_port, session)
        browser.open_page()
        barrier.wait()
        if i < 12:
            return "invite", browser.invite(f"friend{i}@example.com")
        form = {"uses": "3", "csrf_token": browser.csrf_token}
        return "link", browser.request("POST", "/invites/links", form)

    results = race(18, work)

    ok = {"invite": 0, "link": 0}
    for result in results:
        assert isinstance(result, tuple), repr(result)
        kind, reply = result
        body = reply.json
        if body["status"] == "OK":
            ok[kind] += 1
        else:
            assert "left" in body["errors"], body
    spent = ok["invite"] + 3 * ok["link"]
    # 12 invitations for 10: one was refused only once none was left, so all 10 went.
    assert spent == 10, ok
    with app.app_context():
        allocated, sent, _ = assert_counters_match_rows(alice.id)
        assert (allocated, sent) == (10, spent)
    assert len(outbox) == ok["invite"]
    print(
        f"12 invites + 6 links of 3, 10 left: {ok['invite']} invites and {ok['link']}"
        f" links won, {spent} spent"
    )


@pytest.mark.parametrize("round_", range(3))
def test_revoke_racing_signups_through_a_link(app: Flask, live_port: int, round_: int) -> None:
    """The creator revokes a 5-use link while 8 people sign up through it: the uses
    taken, the accounts, the remainder given back and the counters all agree."""
    alice = new_user(app, "alice@example.com", 10)
    link_id, path = new_link(app, alice, 5)
    session = signed_in_session(app, alice)
    browsers = [visitor(app, live_port) for _ in range(8)]

    def work(i: int, barrier: threading.Barrier) -> Reply:
        if i == 8:
            creator = Browser(live_port, session)
            barrier.wait()
            form = {"csrf_token": creator.csrf_token}
            return creator.request("POST", f"/invites/links/{link_id}/revoke", form)
        return sign_up(browsers[i], path, f"joiner{i}@example.com", barrier)

    results = race(9, work)

    for result in results:
        assert isinstance(result, Reply), repr(result)
    *signups, revoke = results
    assert revoke.json["status"] == "OK", revoke.json
    for reply in signups:
        assert reply.status_code in (201, 403, 410), reply
        if reply.status_code == 410:
            assert "withdrawn" in reply.text or "as many people" in reply.text, reply.text
    uses = [r.status_code for r in signups].count(201)
    assert user_count(app) == 1 + uses
    assert counters(app, alice, link_id) == (uses, uses, uses, 5 - uses)
    print(f"revoke vs 8 signups, 5 uses: {uses} joined, {5 - uses} given back")
    assert f"{5 - uses} unused" in revoke.json["message"]
