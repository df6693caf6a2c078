"""The signup helper (kaleo.signup): the user and the accept in one commit, refusals
with nothing created, and the guard that sends signed-in members on."""

from __future__ import annotations

import typing as t

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.exc import IntegrityError

from flask_kaleo import Kaleo
from flask_kaleo.core.accepting import INVITATION_REQUIRED
from flask_kaleo.exceptions import InvitationRevoked
from flask_kaleo.models import Status
from flask_kaleo.web.session import SESSION_KEY
from flask_kaleo.web.session import remember
from tests.helpers import csrf_token
from tests.helpers import current_kaleo
from tests.helpers import expire
from tests.helpers import kaleo_of
from tests.helpers import make_user
from tests.helpers import signed_in
from tests.hostapp import User
from tests.hostapp import db


def invited(app: Flask, email: str = "bob@example.com") -> tuple[FlaskClient, int]:
    """A visitor who followed the link of a new invitation to ``email``; and its id."""
    with app.test_request_context():  # the link is built for the request's host
        alice = db.session.scalar(sa.select(User).where(User.email == "alice@example.com"))
        alice = alice or make_user("alice@example.com", allocation=5)
        invitation = kaleo_of(app).invite(alice, email)
        token, invitation_id = invitation.token, invitation.id
    visitor = app.test_client()
    assert visitor.get(f"/invites/accept/{token}").status_code == 303
    return visitor, invitation_id


def join(visitor: FlaskClient, email: str) -> t.Any:
    """Sign up through the host app's view, which is one call to kaleo.signup."""
    return visitor.post("/join", data={"email": email, "csrf_token": csrf_token(visitor)})


def user_named(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == email))


def invitation(invitation_id: int) -> t.Any:
    db.session.expire_all()
    return db.session.get(current_kaleo().JoinInvitation, invitation_id)


@pytest.mark.all_backends
def test_signup_creates_the_user_and_accepts_in_one_commit(app: Flask, kaleo: Kaleo[User]) -> None:
    visitor, invitation_id = invited(app)
    response = join(visitor, " bob@example.com ")
    assert (response.status_code, response.text) == (201, "welcome bob@example.com")
    with app.app_context():
        bob = user_named("bob@example.com")
        assert bob is not None
        accepted = invitation(invitation_id)
        assert (accepted.status, accepted.to_user_id) == (Status.ACCEPTED.value, bob.id)
        assert kaleo.allocation(accepted.from_user).invites_accepted == 1
    with visitor.session_transaction() as session:
        assert SESSION_KEY not in session  # the link is spent: nothing left to reuse


@pytest.mark.all_backends
def test_an_invitation_used_meanwhile_creates_no_account(app: Flask, kaleo: Kaleo[User]) -> None:
    """Two tabs, one link: the second signup is refused with 410 and leaves nothing."""
    visitor, invitation_id = invited(app)
    with app.app_context():
        other = make_user("bob.other@example.com")
        other_id = other.id
        kaleo.accept(invitation(invitation_id), other)
        db.session.commit()
    response = join(visitor, "bob@example.com")
    assert response.status_code == 410
    assert response.text == "This invitation has already been used."
    with app.app_context():
        assert user_named("bob@example.com") is None
        assert invitation(invitation_id).to_user_id == other_id


@pytest.mark.all_backends
def test_an_invitation_revoked_during_the_signup_leaves_no_user_even_after_a_commit(
    app: Flask,
    kaleo: Kaleo[User],
) -> None:
    """Pending when signup checks it, revoked (committed elsewhere) before the accept:
    signup rolls its user back, so a commit afterwards (a view, a teardown) writes no
    account."""
    with app.test_request_context():
        alice = make_user("alice@example.com", allocation=1)
        sent = kaleo.invite(alice, "bob@example.com")
        sent_id = sent.id
        remember(sent)

        def create_user(address: str) -> User:
            with app.app_context():  # its own session: another transaction
                kaleo.revoke(db.session.get_one(kaleo.JoinInvitation, sent_id))
            return User(email=address)

        with pytest.raises(InvitationRevoked):
            kaleo.signup("bob@example.com", create_user)
        db.session.commit()
        engine = db.engine
    with engine.connect() as elsewhere:  # sees only what is committed
        count = sa.select(sa.func.count()).select_from(User).where(User.email == "bob@example.com")
        assert elsewhere.scalar(count) == 0


@pytest.mark.all_backends
def test_an_error_of_the_app_rolls_the_accept_back(app: Flask, kaleo: Kaleo[User]) -> None:
    """The user cannot be created (the address is taken): the invitation stays pending."""
    visitor, invitation_id = invited(app)
    with app.app_context():
        make_user("taken@example.com")
    with pytest.raises(IntegrityError):
        join(visitor, "taken@example.com")
    with app.app_context():
        left = invitation(invitation_id)
        assert (left.status, left.to_user_id) == (Status.SENT.value, None)
        assert kaleo.allocation(left.from_user).invites_accepted == 0
    assert join(visitor, "bob@example.com").status_code == 201  # the link still works


def test_an_expired_invitation_is_410_and_creates_nothing(app: Flask) -> None:
    visitor, invitation_id = invited(app)
    with app.app_context():
        expire(invitation_id)
    response = join(visitor, "bob@example.com")
    assert (response.status_code, response.text) == (410, "This invitation has expired.")
    with app.app_context():
        assert user_named("bob@example.com") is None
    # said once: on this open site, trying again signs Bob up without it
    assert join(visitor, "bob@example.com").status_code == 201
    with app.app_context():
        assert user_named("bob@example.com") is not None
        assert invitation(invitation_id).status == Status.SENT.value  # still expired


@pytest.mark.settings(KALEO_INVITE_ONLY=True)
def test_invite_only_refuses_a_signup_without_an_invitation(app: Flask) -> None:
    """Even from a view that forgot the guard."""
    visitor = app.test_client()
    response = join(visitor, "eve@example.com")
    assert (response.status_code, response.text) == (410, INVITATION_REQUIRED)
    with app.app_context():
        assert user_named("eve@example.com") is None


def test_open_signup_without_an_invitation_creates_the_user(app: Flask) -> None:
    response = join(app.test_client(), "dora@example.com")
    assert response.status_code == 201
    with app.app_context():
        assert user_named("dora@example.com") is not None


@pytest.mark.settings(KALEO_REQUIRE_INVITED_EMAIL=True)
def test_another_address_than_the_invited_one_is_410(app: Flask) -> None:
    visitor, invitation_id = invited(app)
    response = join(visitor, "mallory@example.com")
    assert response.status_code == 410
    assert (
        response.text == "This invitation was sent to bob@example.com: sign up with that address."
    )
    with app.app_context():
        assert user_named("mallory@example.com") is None
        assert invitation(invitation_id).status == Status.SENT.value


# -- the guard: signed-in members are sent on ------------------------------------------


@pytest.fixture
def guarded(app: Flask, kaleo: Kaleo[User]) -> FlaskClient:
    """A signup page behind kaleo.invitation_required, at /guarded."""
    app.add_url_rule("/guarded", "guarded", kaleo.invitation_required(lambda: "the form"))
    return app.test_client()


def test_a_visitor_sees_the_signup_page(guarded: FlaskClient) -> None:
    assert guarded.get("/guarded").text == "the form"


def test_a_signed_in_member_is_sent_on(guarded: FlaskClient) -> None:
    """A member pressing Back after signing up lands on the site, not on a refusal."""
    signed_in(guarded)
    response = guarded.get("/guarded")
    assert (response.status_code, response.location) == (303, "/")
    with guarded.session_transaction() as session:
        assert session["_flashes"] == [("info", "You are already signed in.")]


@pytest.mark.settings(KALEO_INVITE_ONLY=True)
def test_a_signed_in_member_is_sent_on_before_the_invite_only_check(
    guarded: FlaskClient,
) -> None:
    signed_in(guarded)
    assert guarded.get("/guarded").status_code == 303
    guarded.get("/")  # the flash is shown
    assert guarded.get("/guarded").status_code == 303
    with guarded.session_transaction() as session:
        del session["_user_id"]
    refused = guarded.get("/guarded")
    assert refused.status_code == 403
    assert "Signing up is by invitation only" in refused.text
    assert '<main class="kaleo-page">' in refused.text


@pytest.mark.settings(KALEO_SIGNED_IN_REDIRECT="manage")
def test_the_redirect_names_an_endpoint(guarded: FlaskClient) -> None:
    signed_in(guarded)
    assert guarded.get("/guarded").location == "/manage"


@pytest.mark.settings(KALEO_SIGNED_IN_REDIRECT=None)
def test_no_redirect_lets_members_see_the_page(guarded: FlaskClient) -> None:
    signed_in(guarded)
    assert guarded.get("/guarded").text == "the form"
