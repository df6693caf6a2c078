"""Accepting an invitation: the accept link, the Python API, the signals,
joined-independently, the invite-only guard, and the tokens."""

from __future__ import annotations

import hashlib
import re
import typing as t

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_login import logout_user

from flask_kaleo import Kaleo
from flask_kaleo import signals
from flask_kaleo.core.accepting import check_signup_address
from flask_kaleo.exceptions import ConfigurationError
from flask_kaleo.exceptions import InvitationAlreadyUsed
from flask_kaleo.exceptions import InvitationExpired
from flask_kaleo.exceptions import InvitationForAnotherAddress
from flask_kaleo.exceptions import InvitationNotPending
from flask_kaleo.exceptions import InvitationRevoked
from flask_kaleo.exceptions import NotEnoughInvitations
from flask_kaleo.models import JoinInvitationMixin
from flask_kaleo.models import Status
from tests.helpers import accept_link
from tests.helpers import current_kaleo
from tests.helpers import expire
from tests.helpers import join
from tests.helpers import kaleo_of
from tests.helpers import login
from tests.helpers import make_user
from tests.helpers import post_invite
from tests.helpers import received
from tests.helpers import reconfigure
from tests.hostapp import User
from tests.hostapp import db


def send(app: Flask, outbox: list[t.Any], inviter: str, to: str, message: str = "") -> str:
    """Invite ``to`` from a (new or existing) member ``inviter`` through the endpoint;
    return the token read from the email's link."""
    client = app.test_client()
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == inviter))
        if user is None:
            user = make_user(inviter, allocation=5)
    login(client, user)
    body = post_invite(client, to, message or None).json
    assert body["status"] == "OK", body
    host, token = accept_link(outbox[-1].body)
    assert (host, token) == accept_link(outbox[-1].html) and host == "http://localhost"
    return token


def invitation_for(token: str) -> t.Any:
    invitation = current_kaleo().store.invitation_by_token(token)
    assert invitation is not None
    return invitation


# -- GET /invites/accept/<token> ---------------------------------------------------


@pytest.mark.parametrize("signup", ["/signup", "signup"])
def test_valid_link_remembers_and_redirects(
    app: Flask, client: FlaskClient, outbox: list[t.Any], signup: str, kaleo: Kaleo[User]
) -> None:
    reconfigure(app, KALEO_SIGNUP_URL=signup)  # a path, then an endpoint name
    token = send(app, outbox, "alice@example.com", "carol@example.com")
    response = client.get(f"/invites/accept/{token}")
    assert response.status_code == 303
    assert response.headers["Location"] in ("/signup", "http://localhost/signup")
    assert response.headers["Referrer-Policy"] == "no-referrer"
    with client:
        client.get("/signup")
        pending = kaleo.pending_invitation()
        assert isinstance(pending, JoinInvitationMixin)
        assert pending.invited_address == pending.email == "carol@example.com"
        assert pending.status == Status.SENT.value


def test_logging_out_forgets_the_remembered_invitation(
    app: Flask, client: FlaskClient, outbox: list[t.Any]
) -> None:
    """At a shared computer the next person must not sign up with someone's link."""
    app.add_url_rule("/logout", "logout", lambda: str(logout_user()))
    token = send(app, outbox, "alice@example.com", "carol@example.com")
    client.get(f"/invites/accept/{token}")
    with client.session_transaction() as session:
        assert "kaleo_invitation" in session
    with app.app_context():
        login(client, make_user("carol@example.com"))
    client.get("/logout")
    with client.session_transaction() as session:
        assert "kaleo_invitation" not in session and "_user_id" not in session


@pytest.mark.settings(KALEO_SIGNUP_URL="signup")
def test_signup_endpoint_name_from_settings_marker(
    app: Flask, client: FlaskClient, outbox: list[t.Any]
) -> None:
    token = send(app, outbox, "alice@example.com", "carol@example.com")
    response = client.get(f"/invites/accept/{token}")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/signup")


@pytest.mark.settings(KALEO_SIGNUP_URL="no_such_view")
def test_signup_endpoint_that_does_not_exist_fails_the_first_request(client: FlaskClient) -> None:
    """Found when the app starts serving, on any page: not when an invitee clicks."""
    for _ in range(2):  # and every request after, until it is fixed
        with pytest.raises(ConfigurationError, match="KALEO_SIGNUP_URL is 'no_such_view'"):
            client.get("/")


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_other_methods_on_the_link_are_405_json(
    app: Flask, client: FlaskClient, outbox: list[t.Any], method: str
) -> None:
    token = send(app, outbox, "alice@example.com", "carol@example.com")
    response = client.open(
        f"/invites/accept/{token}", method=method, headers={"Accept": "application/json"}
    )
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET"
    assert response.json["status"] == "ERROR"
    with app.app_context():
        assert invitation_for(token).status == Status.SENT.value


def test_get_never_consumes(
    app: Flask, client: FlaskClient, outbox: list[t.Any], kaleo: Kaleo[User]
) -> None:
    token = send(app, outbox, "alice@example.com", "carol@example.com")
    scanner = app.test_client()  # a mail scanner pre-clicking the link
    assert scanner.get(f"/invites/accept/{token}").status_code == 303
    assert client.get(f"/invites/accept/{token}").status_code == 303
    assert client.get(f"/invites/accept/{token}").status_code == 303
    with app.app_context():
        assert invitation_for(token).status == Status.SENT.value
        assert kaleo.allocation(invitation_for(token).from_user).invites_accepted == 0
    with client:
        client.get("/signup")
        assert kaleo.pending_invitation() is not None


def test_unknown_token_is_404_and_says_nothing(
    app: Flask, client: FlaskClient, outbox: list[t.Any], kaleo: Kaleo[User]
) -> None:
    token = send(app, outbox, "alice@example.com", "carol@example.com", "Secret plans")
    near = token[:-1] + ("A" if token[-1] != "A" else "B")
    pages = []
    for wrong in (near, "x" * 43, "x" * 500):
        response = client.get(f"/invites/accept/{wrong}")
        assert response.status_code == 404
        assert response.headers["Referrer-Policy"] == "no-referrer"
        page = response.get_data(as_text=True)
        assert "Invitation not found" in page
        for secret in ("carol", "alice", "Secret plans", token):
            assert secret not in page
        pages.append(page)
    assert len(set(pages)) == 1  # the same page whatever the wrong token
    with client:
        client.get("/signup")
        assert kaleo.pending_invitation() is None


def _expire(token: str) -> None:
    expire(invitation_for(token).id)


def _accept(token: str) -> None:
    current_kaleo().accept(invitation_for(token), make_user("carol@example.com"))
    db.session.commit()


def _join(token: str) -> None:
    current_kaleo().process_independent_joins(make_user("carol@example.com"), "carol@example.com")
    db.session.commit()


def _revoke(token: str) -> None:
    model = current_kaleo().JoinInvitation
    db.session.execute(
        sa.update(model)
        .where(model.id == invitation_for(token).id)
        .values(status=Status.REVOKED.value, pending_email_key=None)
    )
    db.session.commit()


@pytest.mark.parametrize(
    ("spoil", "reason"),
    [
        (_expire, "has expired"),
        (_accept, "already been used"),
        (_join, "already been used"),
        (_revoke, "withdrawn"),
    ],
    ids=["expired", "accepted", "joined", "revoked"],
)
def test_spent_link_is_410(
    app: Flask,
    client: FlaskClient,
    outbox: list[t.Any],
    spoil: t.Callable[[str], None],
    reason: str,
    kaleo: Kaleo[User],
) -> None:
    token = send(app, outbox, "alice@example.com", "carol@example.com")
    with app.app_context():
        spoil(token)
    response = client.get(f"/invites/accept/{token}")
    assert response.status_code == 410
    assert response.headers["Referrer-Policy"] == "no-referrer"
    page = response.get_data(as_text=True)
    assert "Invitation no longer valid" in page
    assert reason in page
    with client:
        client.get("/signup")
        assert kaleo.pending_invitation() is None


# -- kaleo.accept(): in the caller's transaction ---------------------------------------


def test_accept_with_the_new_user_in_one_commit(
    app: Flask, client: FlaskClient, outbox: list[t.Any], kaleo: Kaleo[User]
) -> None:
    token = send(app, outbox, "alice@example.com", "carol@example.com")
    client.get(f"/invites/accept/{token}")
    with client:
        client.get("/signup")
        invitation = kaleo.pending_invitation()
        assert invitation is not None
        carol = User(email="carol@example.com")
        db.session.add(carol)  # not flushed: accept learns its id
        assert kaleo.accept(invitation, carol) is invitation
        db.session.commit()
        assert kaleo.pending_invitation() is None  # forgotten by the session
    with app.app_context():
        invitation = invitation_for(token)
        assert invitation.status == Status.ACCEPTED.value
        assert invitation.to_user.email == "carol@example.com"
        assert kaleo.allocation(invitation.from_user).invites_accepted == 1
        assert kaleo.allocation(invitation.from_user).invites_sent == 1


def test_accept_rolled_back_leaves_nothing(
    app: Flask, outbox: list[t.Any], kaleo: Kaleo[User]
) -> None:
    token = send(app, outbox, "alice@example.com", "carol@example.com")
    with app.app_context():
        carol = User(email="carol@example.com")
        db.session.add(carol)
        db.session.flush()
        kaleo.accept(invitation_for(token), carol)
        db.session.rollback()
    with app.app_context():
        assert db.session.scalar(sa.select(User).where(User.email == "carol@example.com")) is None
        invitation = invitation_for(token)
        assert invitation.status == Status.SENT.value
        assert invitation.to_user_id is None
        assert kaleo.allocation(invitation.from_user).invites_accepted == 0


def test_accept_is_single_use(app: Flask, outbox: list[t.Any], kaleo: Kaleo[User]) -> None:
    token = send(app, outbox, "alice@example.com", "carol@example.com")
    with app.app_context():
        carol = make_user("carol@example.com")
        kaleo.accept(invitation_for(token), carol)
        db.session.commit()
        with pytest.raises(InvitationAlreadyUsed):
            kaleo.accept(invitation_for(token), carol)
        db.session.rollback()
        assert kaleo.allocation(invitation_for(token).from_user).invites_accepted == 1


def test_accept_expired_raises(app: Flask, outbox: list[t.Any], kaleo: Kaleo[User]) -> None:
    token = send(app, outbox, "alice@example.com", "carol@example.com")
    with app.app_context():
        _expire(token)
        with pytest.raises(InvitationExpired) as raised:
            kaleo.accept(invitation_for(token), make_user("carol@example.com"))
        assert isinstance(raised.value, InvitationNotPending)
        db.session.rollback()
        assert invitation_for(token).status == Status.SENT.value


def test_accept_revoked_raises(app: Flask, outbox: list[t.Any], kaleo: Kaleo[User]) -> None:
    token = send(app, outbox, "alice@example.com", "carol@example.com")
    with app.app_context():
        _revoke(token)
        with pytest.raises(InvitationRevoked):
            kaleo.accept(invitation_for(token), make_user("carol@example.com"))


# -- signals and joined independently ------------------------------------------------


def test_signals_on_send_and_accept(app: Flask, outbox: list[t.Any], kaleo: Kaleo[User]) -> None:
    log: list[tuple[str, t.Any, dict[str, tuple[str, str | None]]]] = []

    def recorder(name: str) -> t.Callable[..., None]:
        def record(sender: t.Any, **kwargs: t.Any) -> None:
            # read while the receiver runs, inside the request or the app context
            snapshot = {
                key: (value.email, getattr(value, "status", None)) for key, value in kwargs.items()
            }
            log.append((name, sender, snapshot))

        return record

    on_sent, on_accepted = recorder("sent"), recorder("accepted")
    with (
        signals.invite_sent.connected_to(on_sent),
        signals.invite_accepted.connected_to(on_accepted),
    ):
        token = send(app, outbox, "alice@example.com", "carol@example.com")
        with app.app_context():
            carol = make_user("carol@example.com")
            kaleo.accept(invitation_for(token), carol)
            db.session.commit()
    assert [(name, sender) for name, sender, _ in log] == [("sent", app), ("accepted", app)]
    sent_kwargs, accepted_kwargs = log[0][2], log[1][2]
    assert sent_kwargs == {
        "invitation": ("carol@example.com", Status.SENT.value),
        "inviter": ("alice@example.com", None),
    }
    assert accepted_kwargs == {
        "invitation": ("carol@example.com", Status.ACCEPTED.value),
        "inviter": ("alice@example.com", None),
        "invitee": ("carol@example.com", None),
    }


def test_no_signal_on_refusal(app: Flask, kaleo: Kaleo[User]) -> None:
    with received(signals.invite_sent) as calls, app.test_request_context():
        alice = make_user("alice@example.com", allocation=0)
        with pytest.raises(NotEnoughInvitations):
            kaleo.invite(alice, "carol@example.com")
    assert calls == []


def _three_inviters(app: Flask, outbox: list[t.Any]) -> dict[str, str]:
    """alice, bob and dan invite Carol (three spellings); erin invites someone else."""
    tokens = {
        "alice": send(app, outbox, "alice@example.com", "carol@example.com"),
        "bob": send(app, outbox, "bob@example.com", "Carol@Example.COM"),
        "dan": send(app, outbox, "dan@example.com", "CAROL@example.com"),
        "erin": send(app, outbox, "erin@example.com", "zoe@example.com"),
    }
    with app.app_context():
        _expire(tokens["dan"])  # expired ones join too
    return tokens


def _assert_joined(tokens: dict[str, str], carol: t.Any, joined: set[str]) -> None:
    for name in joined:
        invitation = invitation_for(tokens[name])
        assert invitation.status == Status.JOINED_INDEPENDENTLY.value == "joined", name
        assert invitation.to_user_id == carol.id
        assert invitation.pending_email_key is None
    other = invitation_for(tokens["erin"])  # to another address: untouched
    assert (other.status, other.to_user_id) == (Status.SENT.value, None)


@pytest.mark.all_backends  # one set-based UPDATE over every inviter's row
def test_accept_joins_the_other_inviters(
    app: Flask, outbox: list[t.Any], kaleo: Kaleo[User]
) -> None:
    tokens = _three_inviters(app, outbox)
    with received(signals.joined_independently) as calls, app.app_context():
        carol = make_user("carol@example.com")
        kaleo.accept(invitation_for(tokens["alice"]), carol)
        db.session.commit()
        assert invitation_for(tokens["alice"]).status == Status.ACCEPTED.value
        _assert_joined(tokens, carol, {"bob", "dan"})
        bob = invitation_for(tokens["bob"]).from_user
        assert kaleo.allocation(bob).invites_accepted == 0  # not accepted through bob's
        joined = [invitation_for(tokens[name]) for name in ("bob", "dan")]
        assert sorted((call["invitation"], call["inviter"]) for call in calls) == sorted(
            (invitation.id, invitation.from_user_id) for invitation in joined
        )
        assert all(call["invitee"] == carol.id for call in calls)


@pytest.mark.all_backends
def test_process_independent_joins(app: Flask, outbox: list[t.Any], kaleo: Kaleo[User]) -> None:
    tokens = _three_inviters(app, outbox)
    with app.app_context():
        _revoke(tokens["bob"])  # a revoked invitation stays revoked
    with received(signals.joined_independently) as calls, app.app_context():
        carol = make_user("carol@example.com")
        changed = kaleo.process_independent_joins(carol, "Carol@EXAMPLE.com")
        db.session.commit()
        assert sorted(i.from_user.email for i in changed) == [
            "alice@example.com",
            "dan@example.com",
        ]
        _assert_joined(tokens, carol, {"alice", "dan"})
        bob = invitation_for(tokens["bob"])
        assert (bob.status, bob.to_user_id) == (Status.REVOKED.value, None)
        assert kaleo.process_independent_joins(carol, "carol@example.com") == []
        assert sorted(call["invitation"] for call in calls) == sorted(i.id for i in changed)


# -- acceptance settles only what it proves -----------------------------------------


def _states(tokens: dict[str, str]) -> dict[str, tuple[str, t.Any]]:
    db.session.expire_all()
    return {
        name: (invitation_for(token).status, invitation_for(token).to_user_id)
        for name, token in tokens.items()
    }


@pytest.mark.all_backends
def test_signing_up_as_another_address_settles_only_that_invitation(
    app: Flask, outbox: list[t.Any]
) -> None:
    """Alice's link to Carol, used to sign up under another address, settles alice's
    invitation alone: bob's and dan's invitations to Carol stay pending (their links
    keep working) until Carol's own address signs up."""
    tokens = _three_inviters(app, outbox)
    with received(signals.joined_independently) as calls:
        response = join(app, tokens["alice"], "mallory@example.com")
    assert response.status_code == 201, response.text
    with app.app_context():
        mallory = db.session.scalar(sa.select(User).where(User.email == "mallory@example.com"))
        states = _states(tokens)
        assert states["alice"] == (Status.ACCEPTED.value, mallory.id)
        assert {name: states[name] for name in ("bob", "dan", "erin")} == {
            name: (Status.SENT.value, None) for name in ("bob", "dan", "erin")
        }
        assert invitation_for(tokens["bob"]).pending_email_key == "carol@example.com"
    assert calls == []
    assert app.test_client().get(f"/invites/accept/{tokens['bob']}").status_code == 303
    # Carol herself then signs up through bob's link: hers, so dan's settles too.
    assert join(app, tokens["bob"], "Carol@example.com").status_code == 201
    with app.app_context():
        carol = db.session.scalar(sa.select(User).where(User.email == "Carol@example.com"))
        states = _states(tokens)
        assert states["bob"] == (Status.ACCEPTED.value, carol.id)
        assert states["dan"] == (Status.JOINED_INDEPENDENTLY.value, carol.id)
        assert states["alice"] == (Status.ACCEPTED.value, mallory.id)  # not taken back


@pytest.mark.all_backends
def test_the_app_settles_the_others_once_it_confirmed_the_address(
    app: Flask, outbox: list[t.Any], kaleo: Kaleo[User]
) -> None:
    tokens = _three_inviters(app, outbox)
    with app.app_context():
        carol = make_user("carol.new@example.com")
        kaleo.accept(invitation_for(tokens["alice"]), carol)  # another address
        db.session.commit()
        assert _states(tokens)["bob"] == (Status.SENT.value, None)
        # The app confirmed that carol@example.com is hers too (a link it mailed there):
        changed = kaleo.process_independent_joins(carol, "carol@example.com")
        db.session.commit()
        assert sorted(i.from_user.email for i in changed) == ["bob@example.com", "dan@example.com"]
        _assert_joined(tokens, carol, {"bob", "dan"})


@pytest.mark.all_backends
@pytest.mark.settings(KALEO_REQUIRE_INVITED_EMAIL=True)
def test_require_invited_email_refuses_another_address(
    app: Flask, outbox: list[t.Any], kaleo: Kaleo[User]
) -> None:
    tokens = _three_inviters(app, outbox)
    with app.app_context():
        before = _states(tokens)
        alice = invitation_for(tokens["alice"]).from_user
        counters = kaleo.allocation(alice).invites_accepted
    response = join(app, tokens["alice"], "mallory@example.com")
    assert response.status_code == 410
    assert response.text == (
        "This invitation was sent to carol@example.com: sign up with that address."
    )
    with app.app_context():
        assert _states(tokens) == before  # nothing changed, no account created
        assert db.session.scalar(sa.select(User).where(User.email == "mallory@example.com")) is None
        assert kaleo.allocation(alice).invites_accepted == counters
        # The Python API refuses it too, whatever the signup view checked.
        mallory = make_user("mallory@example.com")
        with pytest.raises(InvitationForAnotherAddress) as raised:
            kaleo.accept(invitation_for(tokens["alice"]), mallory)
        assert isinstance(raised.value, InvitationNotPending)
        db.session.rollback()
        assert _states(tokens) == before
    # Another spelling of the invited address is that address.
    assert join(app, tokens["alice"], " CAROL@example.com ").status_code == 201
    with app.app_context():
        states = _states(tokens)
        assert states["alice"][0] == Status.ACCEPTED.value
        assert states["bob"][0] == states["dan"][0] == Status.JOINED_INDEPENDENTLY.value


# -- only a proven mailbox settles the others -----------------------------------------

LOOKALIKES = ["ｆｉｏｎａ@example.com", "ﬁona@example.com", "𝐟𝐢𝐨𝐧𝐚@example.com"]
"""Fullwidth letters, the "fi" ligature, mathematical bold: other mailboxes than
fiona@example.com, though the sending limits count them as one."""


def _to_fiona(app: Flask, outbox: list[t.Any]) -> dict[str, str]:
    """alice and bob each email an invitation to Fiona."""
    return {
        "alice": send(app, outbox, "alice@example.com", "fiona@example.com"),
        "bob": send(app, outbox, "bob@example.com", "Fiona@Example.com"),
    }


@pytest.mark.parametrize("lookalike", LOOKALIKES)
def test_a_lookalike_address_is_another_mailbox(
    app: Flask, client: FlaskClient, outbox: list[t.Any], lookalike: str, kaleo: Kaleo[User]
) -> None:
    """An account under a lookalike of the invited address neither satisfies
    KALEO_REQUIRE_INVITED_EMAIL nor settles anyone's invitation to the real one."""
    tokens = _to_fiona(app, outbox)
    reconfigure(app, KALEO_REQUIRE_INVITED_EMAIL=True)
    with client:
        client.get(f"/invites/accept/{tokens['alice']}")
        client.get("/signup")
        with pytest.raises(InvitationForAnotherAddress):
            check_signup_address(kaleo.pending_invitation(), lookalike)
        assert (
            check_signup_address(kaleo.pending_invitation(), " FIONA@example.com")
            == "FIONA@example.com"
        )
    with app.app_context():
        impostor = make_user(lookalike)
        with pytest.raises(InvitationForAnotherAddress):
            kaleo.accept(invitation_for(tokens["alice"]), impostor)
        db.session.rollback()
        reconfigure(app, KALEO_REQUIRE_INVITED_EMAIL=False)
        kaleo.accept(invitation_for(tokens["alice"]), impostor)  # holds the link: fine
        assert kaleo.process_independent_joins(impostor, lookalike) == []
        db.session.commit()
        assert _states(tokens)["bob"] == (Status.SENT.value, None)
        fiona = make_user("fiona@example.com")  # the real one confirms her address
        assert len(kaleo.process_independent_joins(fiona, "Fiona@EXAMPLE.com")) == 1
        db.session.commit()
        assert _states(tokens)["bob"] == (Status.JOINED_INDEPENDENTLY.value, fiona.id)


@pytest.mark.all_backends
def test_a_link_only_invitation_proves_no_mailbox(
    app: Flask, outbox: list[t.Any], kaleo: Kaleo[User]
) -> None:
    """A ``send=False`` invitation was never emailed: accepting it with its own address
    settles nothing else until the app confirms the address."""
    tokens = {"bob": send(app, outbox, "bob@example.com", "fiona@example.com")}
    with app.test_request_context():
        alice = make_user("alice@example.com", allocation=1)
        handed = kaleo.invite(alice, "fiona@example.com", send=False)
        tokens["alice"] = str(handed.token)
    with app.app_context():
        fiona = make_user("fiona@example.com")
        kaleo.accept(invitation_for(tokens["alice"]), fiona)
        db.session.commit()
        assert _states(tokens) == {
            "alice": (Status.ACCEPTED.value, fiona.id),
            "bob": (Status.SENT.value, None),
        }
        assert len(kaleo.process_independent_joins(fiona, "fiona@example.com")) == 1
        db.session.commit()
        assert _states(tokens)["bob"] == (Status.JOINED_INDEPENDENTLY.value, fiona.id)


@pytest.mark.all_backends
def test_a_shareable_link_settles_nothing_until_the_address_is_confirmed(
    app: Flask, outbox: list[t.Any], kaleo: Kaleo[User]
) -> None:
    tokens = {"bob": send(app, outbox, "bob@example.com", "fiona@example.com")}
    with app.test_request_context():
        alice = make_user("alice@example.com", allocation=1)
        link = kaleo.create_link(alice, 1)
    with app.app_context():
        fiona = make_user("fiona@example.com")
        kaleo.accept(db.session.merge(link), fiona)
        db.session.commit()
        assert _states(tokens)["bob"] == (Status.SENT.value, None)
        assert len(kaleo.process_independent_joins(fiona, "fiona@example.com")) == 1
        db.session.commit()
        assert _states(tokens)["bob"] == (Status.JOINED_INDEPENDENTLY.value, fiona.id)


@pytest.mark.settings(KALEO_REQUIRE_INVITED_EMAIL=True)
def test_signup_email_prefills_and_binds(
    app: Flask, client: FlaskClient, outbox: list[t.Any], kaleo: Kaleo[User]
) -> None:
    token = send(app, outbox, "alice@example.com", "Carol@Example.com")
    with client:
        client.get("/signup")
        assert kaleo.signup_email() is None  # no invitation: nothing to prefill
        assert (
            check_signup_address(kaleo.pending_invitation(), " anyone@example.com ")
            == "anyone@example.com"
        )
        client.get(f"/invites/accept/{token}")
        client.get("/signup")
        assert kaleo.signup_email() == "Carol@example.com"  # the domain as validated
        assert (
            check_signup_address(kaleo.pending_invitation(), "carol@example.COM")
            == "carol@example.COM"
        )
        for other in ("mallory@example.com", "", 42):
            with pytest.raises(InvitationForAnotherAddress, match="sent to Carol@example.com"):
                check_signup_address(kaleo.pending_invitation(), other)


def test_signup_email_binds_nothing_by_default(
    app: Flask, client: FlaskClient, outbox: list[t.Any], kaleo: Kaleo[User]
) -> None:
    token = send(app, outbox, "alice@example.com", "carol@example.com")
    with client:
        client.get(f"/invites/accept/{token}")
        client.get("/signup")
        assert kaleo.signup_email() == "carol@example.com"
        assert (
            check_signup_address(kaleo.pending_invitation(), "mallory@example.com")
            == "mallory@example.com"
        )


# -- invite-only ----------------------------------------------------------------------


def add_guarded_signup(app: Flask) -> None:
    def beta_signup() -> str:
        return "welcome to the beta"

    app.add_url_rule("/beta-signup", "beta_signup", kaleo_of(app).invitation_required(beta_signup))


@pytest.mark.settings(KALEO_INVITE_ONLY=True)
def test_invite_only_lets_invited_visitors_through(
    app: Flask, client: FlaskClient, outbox: list[t.Any]
) -> None:
    add_guarded_signup(app)
    response = client.get("/beta-signup")
    assert response.status_code == 403
    assert "by invitation only" in response.get_data(as_text=True)
    token = send(app, outbox, "alice@example.com", "carol@example.com")
    client.get(f"/invites/accept/{token}")
    response = client.get("/beta-signup")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "welcome to the beta"
    with app.app_context():
        _expire(token)
    assert client.get("/beta-signup").status_code == 403


def test_invitation_required_does_nothing_when_not_invite_only(
    app: Flask, client: FlaskClient
) -> None:
    add_guarded_signup(app)
    response = client.get("/beta-signup")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "welcome to the beta"


# -- tokens -------------------------------------------------------------------------------


def test_only_the_digest_is_stored(app: Flask, outbox: list[t.Any], kaleo: Kaleo[User]) -> None:
    tokens = [
        send(app, outbox, "alice@example.com", f"friend{number}@example.com") for number in range(3)
    ]
    assert len(set(tokens)) == 3
    for token in tokens:
        # >= 128 bits: URL-safe base64 carries 6 bits a character
        assert re.fullmatch(r"[A-Za-z0-9_-]+", token)
        assert len(token) * 6 >= 128
        assert len(set(token)) >= 16  # not a padded or repeated value
    with app.app_context():
        table = kaleo.JoinInvitation.__table__
        rows = db.session.execute(sa.select(table)).mappings().all()
    for token, row in zip(tokens, sorted(rows, key=lambda r: r["id"]), strict=True):
        assert re.fullmatch(r"[0-9a-f]{64}", row["token_digest"])
        assert row["token_digest"] == hashlib.sha256(token.encode()).hexdigest()
        for value in row.values():
            assert token not in str(value)


def test_digest_is_not_a_token(app: Flask, client: FlaskClient, outbox: list[t.Any]) -> None:
    """A leaked database does not let anyone accept: the digest is not a working link."""
    token = send(app, outbox, "alice@example.com", "carol@example.com")
    with app.app_context():
        digest = invitation_for(token).token_digest
    assert client.get(f"/invites/accept/{digest}").status_code == 404


@pytest.mark.backends("postgresql", "mariadb")  # SQLite enforces no foreign keys here
def test_deleting_an_inviter_keeps_the_invitations_they_sent(
    app: Flask, outbox: list[t.Any], kaleo: Kaleo[User]
) -> None:
    """The trail a moderator needs when an inviter turns out to be a spammer."""
    send(app, outbox, "alice@example.com", "carol@example.com")
    dave_token = send(app, outbox, "alice@example.com", "dave@example.com")
    with app.app_context():
        alice = db.session.scalars(sa.select(User).where(User.email == "alice@example.com")).one()
        db.session.delete(alice)
        db.session.commit()
        kept = {i.email: i for i in db.session.scalars(sa.select(kaleo.JoinInvitation))}
        assert {(i.from_user_id, i.inviter_label) for i in kept.values()} == {
            (None, "alice@example.com")
        }
        assert kaleo.report().sent == 2
    with app.test_request_context():
        invitation = invitation_for(dave_token)
        dave = User(email="dave@example.com")
        db.session.add(dave)
        kaleo.accept(invitation, dave)  # still accepted: nobody's counter to move
        db.session.commit()
        assert invitation_for(dave_token).status == Status.ACCEPTED.value
