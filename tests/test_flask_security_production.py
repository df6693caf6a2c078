"""Invite-only on Flask-Security-Too as it runs in production: TESTING off (errors are
500 pages, and its after-request commit runs even then), CSRF on, the host's own
receivers of ``user_registered`` connected before ``wire``, and visitors registering
in parallel on a threaded server. However the receivers behave, an invitation gives
at most one account per use, and a registration that fails or raises leaves none."""

from __future__ import annotations

import concurrent.futures
import re
import smtplib
import threading
import typing as t

import pytest
import sqlalchemy as sa
from flask import Flask
from flask import request
from flask_security import ConfirmRegisterForm
from flask_security import hash_password
from flask_security import user_registered
from flask_security.registerable import register_user
from werkzeug.datastructures import MultiDict

from flask_kaleo import Status
from tests.e2e.live import LiveServer
from tests.e2e.live import serve
from tests.helpers import WAIT
from tests.helpers import Browser
from tests.security_app import Receiver
from tests.security_app import Role
from tests.security_app import User
from tests.security_app import add_member
from tests.security_app import create_app
from tests.security_app import csrf
from tests.security_app import db
from tests.security_app import security_kaleo

PASSWORD = "a long enough password"
PARALLEL = 20


def default_role(app: Flask, user: t.Any, **extra: t.Any) -> None:
    """Flask-Security-Too's documented receiver: a default role, committed at once."""
    datastore = app.extensions["security"].datastore
    datastore.add_role_to_user(user, datastore.find_role("member"))
    db.session.commit()


def welcome_email(app: Flask, user: t.Any, **extra: t.Any) -> None:
    """A receiver that mails a welcome while the relay is down."""
    raise smtplib.SMTPServerDisconnected("relay went away")


def production_app(database_url: str, *receivers: Receiver, **config: t.Any) -> Flask:
    app = create_app(
        database_url,
        receivers,
        TESTING=False,
        PROPAGATE_EXCEPTIONS=False,
        KALEO_INVITE_ONLY=True,
        KALEO_DEFAULT_INVITE_ALLOCATION=PARALLEL,
        KALEO_SITE_URL="http://localhost",
        MAIL_SUPPRESS_SEND=True,  # Flask-Mail records instead of sending
        **config,
    )
    with app.app_context():
        db.create_all()
        db.session.add(Role(name="member"))
        db.session.commit()
    return app


class Visitor:
    """A browser of its own (cookies) on the live server; redirects are not followed."""

    def __init__(self, server: LiveServer) -> None:
        port = int(server.url.rsplit(":", 1)[1])
        self.browser = Browser(port, ({}, ""), ajax=False)  # posts forms as a browser does
        self.page = ""

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> int:
        """The answer's status; its body is kept in ``page``."""
        reply = self.browser.request(method, path, form)
        self.page = reply.text
        return reply.status_code

    def follow(self, path: str) -> None:
        assert self.request("GET", path) == 303

    def open_register_page(self) -> None:
        assert self.request("GET", "/register") == 200, self.page
        match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', self.page)
        assert match, self.page
        self.csrf_token = match[1]

    def register(self, email: str) -> int:
        form = {"email": email, "password": PASSWORD, "password_confirm": PASSWORD}
        return self.request("POST", "/register", {**form, "csrf_token": self.csrf_token})


def users() -> list[str]:
    """The addresses of the accounts, as committed."""
    with db.engine.connect() as connection:
        return list(connection.scalars(sa.select(User.email).order_by(User.id)))


def invitation_state(app: Flask, invitation_id: int) -> tuple[str, int | None]:
    with app.app_context():
        invitation = db.session.get(security_kaleo(app).JoinInvitation, invitation_id)
        assert invitation is not None
        return invitation.status, invitation.to_user_id


def invite(app: Flask, address: str = "bob@example.com") -> tuple[int, str]:
    """Alice (a new member) invites ``address``: the invitation's id and accept path."""
    alice = add_member(app, "alice@example.com", PASSWORD)
    with app.app_context():
        invitation = security_kaleo(app).invite(db.session.get_one(User, alice), address)
        return int(invitation.id), f"/invites/accept/{invitation.token}"


def register_in_parallel(visitors: list[Visitor]) -> list[int]:
    """Each visitor posts the register form at the same moment (a barrier); their
    statuses."""
    barrier = threading.Barrier(len(visitors))

    def post(index: int) -> int:
        barrier.wait(WAIT)
        return visitors[index].register(f"visitor{index}@example.com")

    with concurrent.futures.ThreadPoolExecutor(len(visitors)) as pool:
        return list(pool.map(post, range(len(visitors))))


@pytest.fixture
def database(empty_database: str) -> str:
    return empty_database


@pytest.mark.all_backends
@pytest.mark.parametrize("receivers", [(default_role,), (default_role, welcome_email)])
def test_one_invitation_gives_one_account_to_parallel_registrations(
    database: str, receivers: tuple[Receiver, ...]
) -> None:
    """Twenty visitors hold the same invitation and post at once; the host's receiver
    commits (and another one may raise after it)."""
    app = production_app(database, *receivers)
    invitation_id, path = invite(app)
    with serve(app, db) as server:
        visitors = [Visitor(server) for _ in range(PARALLEL)]
        for visitor in visitors:
            visitor.follow(path)
            visitor.open_register_page()
        statuses = register_in_parallel(visitors)
        with app.app_context():
            accounts = [email for email in users() if email.startswith("visitor")]
            assert len(accounts) <= 1, (accounts, statuses)
            status, to_user = invitation_state(app, invitation_id)
            if welcome_email not in receivers:
                assert accounts and status == Status.ACCEPTED.value, statuses
                assert statuses.count(302) == 1, statuses
            if accounts:  # committed by the receiver together with the accept
                joined = db.session.scalar(sa.select(User.id).where(User.email == accounts[0]))
                assert (status, to_user) == (Status.ACCEPTED.value, joined)
            else:
                assert (status, to_user) == (Status.SENT.value, None)


@pytest.mark.all_backends
def test_a_link_of_three_uses_gives_three_accounts(database: str) -> None:
    app = production_app(database, default_role)
    kaleo = security_kaleo(app)
    alice = add_member(app, "alice@example.com", PASSWORD)
    with app.test_request_context():
        link = kaleo.create_link(db.session.get_one(User, alice), 3)
        link_id, path = link.id, str(link.url).removeprefix("http://localhost")
    with serve(app, db) as server:
        visitors = [Visitor(server) for _ in range(PARALLEL)]
        for visitor in visitors:
            visitor.follow(path)
            visitor.open_register_page()
        statuses = register_in_parallel(visitors)
        with app.app_context():
            accounts = [email for email in users() if email.startswith("visitor")]
            assert len(accounts) == statuses.count(302) == 3, (accounts, statuses)
            assert db.session.get(kaleo.InvitationLink, link_id).uses == 3
            joined = db.session.scalars(sa.select(kaleo.LinkUse.user_id)).all()
            assert len(joined) == 3


@pytest.mark.all_backends
def test_a_raising_receiver_leaves_no_account_and_the_invitation_pending(
    database: str,
) -> None:
    """Every POST is a 500 while the relay is down; no account is left behind for
    Flask-Security-Too's after-request commit, and the invitation stays usable."""
    app = production_app(database, welcome_email, default_role)
    invitation_id, path = invite(app)
    with serve(app, db) as server:
        visitor = Visitor(server)
        visitor.follow(path)
        visitor.open_register_page()
        for attempt in range(5):
            assert visitor.register(f"bob{attempt}@example.com") == 500
        with app.app_context():
            assert users() == ["alice@example.com"]
        assert invitation_state(app, invitation_id) == (Status.SENT.value, None)
        user_registered.disconnect(welcome_email, app)  # the relay is back
        assert visitor.register("bob@example.com") == 302
        with app.app_context():
            assert users() == ["alice@example.com", "bob@example.com"]
        assert invitation_state(app, invitation_id)[0] == Status.ACCEPTED.value


@pytest.mark.all_backends
def test_a_revoke_committed_mid_registration_leaves_no_account(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pending when the form is checked, revoked (committed) before the account is
    created; the host's committing receiver is there."""
    app = production_app(database, default_role)
    invitation_id, path = invite(app)
    kaleo = security_kaleo(app)

    def hash_while_the_inviter_revokes(password: str) -> t.Any:
        with app.app_context():  # its own session: another transaction
            kaleo.revoke(db.session.get_one(kaleo.JoinInvitation, invitation_id))
        return hash_password(password)

    with serve(app, db) as server:
        visitor = Visitor(server)
        visitor.follow(path)
        visitor.open_register_page()
        monkeypatch.setattr(
            "flask_security.registerable.hash_password", hash_while_the_inviter_revokes
        )
        assert visitor.register("bob@example.com") == 410
        assert "This invitation has been withdrawn." in visitor.page
        with app.app_context():
            assert users() == ["alice@example.com"]
        assert invitation_state(app, invitation_id) == (Status.REVOKED.value, None)


def add_app_signup(app: Flask) -> None:
    """An endpoint of the app's own that registers through Flask-Security-Too's
    ``register_user`` (an API signup, an admin page)."""

    @app.route("/api/signup", methods=["POST"])
    def api_signup() -> tuple[str, int]:
        form = ConfirmRegisterForm(MultiDict(request.form), meta={"csrf": False})
        assert form.validate(), form.errors
        user = register_user(form)  # type: ignore[no-untyped-call]
        db.session.commit()
        return f"created {user.email}", 201

    csrf.exempt(api_signup)  # an API: no form token


def test_register_user_from_app_code_keeps_invite_only(database: str) -> None:
    app = production_app(database, default_role)
    add_app_signup(app)
    invitation_id, path = invite(app)
    with serve(app, db) as server:
        stranger = Visitor(server)
        form = {"email": "mallory@example.com", "password": PASSWORD}
        assert stranger.request("POST", "/api/signup", form) == 403
        assert "Signing up is by invitation only" in stranger.page

        bob = Visitor(server)
        bob.follow(path)
        form = {"email": "bob@example.com", "password": PASSWORD}
        assert bob.request("POST", "/api/signup", form) == 201
        with app.app_context():
            assert users() == ["alice@example.com", "bob@example.com"]
            bob_id = db.session.scalar(sa.select(User.id).where(User.email == "bob@example.com"))
        assert invitation_state(app, invitation_id) == (Status.ACCEPTED.value, bob_id)


def test_a_signed_in_member_never_spends_the_invitation_they_followed(database: str) -> None:
    """Alice, signed in, follows Bob's link (it was forwarded to her), then creates an
    account through the app's own page: Bob's invitation is not used for it."""
    app = production_app(database, default_role)
    add_app_signup(app)
    invitation_id, path = invite(app)
    with serve(app, db) as server:
        alice = Visitor(server)
        alice.request("GET", "/login")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', alice.page)
        assert token, alice.page
        form = {"email": "alice@example.com", "password": PASSWORD, "csrf_token": token[1]}
        assert alice.request("POST", "/login", form) == 302
        alice.follow(path)
        form = {"email": "carol@example.com", "password": PASSWORD}
        assert alice.request("POST", "/api/signup", form) == 201
        assert invitation_state(app, invitation_id) == (Status.SENT.value, None)
        bob = Visitor(server)
        bob.follow(path)  # his link still works
        bob.open_register_page()
        assert bob.register("bob@example.com") == 302
        with app.app_context():
            bob_id = db.session.scalar(sa.select(User.id).where(User.email == "bob@example.com"))
        assert invitation_state(app, invitation_id) == (Status.ACCEPTED.value, bob_id)
