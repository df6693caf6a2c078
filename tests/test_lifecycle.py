"""Resend and revoke (endpoints, Python API, signals, links) and expiry on every path."""

from __future__ import annotations

import datetime as dt
import re
import typing as t

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from flask_kaleo import InvitationExpired
from flask_kaleo import InvitationNotPending
from flask_kaleo import InvitationRevoked
from flask_kaleo import Kaleo
from flask_kaleo import ResendTooSoon
from flask_kaleo import signals
from flask_kaleo.core.tokens import token_digest
from tests.helpers import AJAX
from tests.helpers import BROWSER
from tests.helpers import SetHook
from tests.helpers import SMTPServer
from tests.helpers import Statements
from tests.helpers import accept_link
from tests.helpers import csrf_token
from tests.helpers import expire
from tests.helpers import invitation_to
from tests.helpers import logout
from tests.helpers import make_invitation
from tests.helpers import make_user
from tests.helpers import post_invite
from tests.helpers import received
from tests.helpers import signed_in
from tests.helpers import stat_row
from tests.hostapp import User
from tests.hostapp import db

NO_WAIT = pytest.mark.settings(KALEO_RESEND_INTERVAL=dt.timedelta(0))


def link_of(message: t.Any) -> str:
    """The accept link's path in an invitation email."""
    return f"/invites/accept/{accept_link(message.body)[1]}"


@pytest.fixture
def alice(client: FlaskClient, outbox: list[t.Any]) -> User:
    """A signed-in inviter with 3 invitations who has invited carol@example.com."""
    user = signed_in(client)
    assert post_invite(client, "carol@example.com").json["status"] == "OK"
    return user


@pytest.fixture
def invitation(app: Flask, alice: User) -> t.Any:
    """Alice's invitation to carol@example.com as it was sent, detached."""
    with app.app_context():
        return snapshot("carol@example.com")


def snapshot(email: str) -> t.Any:
    """The invitation to ``email`` as it is now, detached: usable after the context."""
    invitation = invitation_to(email)
    db.session.expunge(invitation)
    return invitation


def act(
    client: FlaskClient,
    action: str,
    invitation_id: int | str,
    headers: dict[str, str] = AJAX,
    token: str | None = None,
    csrf: bool = True,
    **fields: str,
) -> t.Any:
    """POST resend or revoke (with ``fields``); with the session's CSRF token unless
    ``token`` is given or ``csrf`` is False."""
    data = dict(fields)
    if token is not None:
        data["csrf_token"] = token
    elif csrf:
        data["csrf_token"] = csrf_token(client)
    return client.post(f"/invites/{action}/{invitation_id}", data=data, headers=headers)


# -- resend ------------------------------------------------------------------------


@NO_WAIT
def test_resend_issues_a_new_link_and_kills_the_old(
    app: Flask, client: FlaskClient, alice: User, outbox: list[t.Any], kaleo: Kaleo[User]
) -> None:
    old_link = link_of(outbox[0])
    with app.app_context():
        before = snapshot("carol@example.com")
    with received(signals.invite_resent) as calls:
        response = act(client, "resend", before.id)
    assert response.status_code == 200
    body = response.json
    assert (body["status"], body["email"], body["invitations_remaining"]) == (
        "OK",
        "carol@example.com",
        2,
    )
    assert body["message"] == "Invitation sent again to carol@example.com."
    # Resend/revoke forms exist only in a list with actions: the answer's item has them.
    assert 'class="kaleo-resend"' in body["html"]
    assert len(outbox) == 2 and outbox[1].recipients == ["carol@example.com"]
    new_link = link_of(outbox[1])
    assert new_link != old_link
    assert [call["invitation"] for call in calls] == [before.id]
    assert calls[0]["inviter"] == alice.id
    with app.app_context():
        after = invitation_to("carol@example.com")
        assert after.expires_at == before.expires_at  # the original expiry is kept
        assert after.resent_at is not None
        assert stat_row(alice.id) == (3, 1, 0)  # nothing spent
        assert kaleo.store.invitation_by_token(old_link.rsplit("/", 1)[1]) is None
        assert kaleo.store.invitation_by_token(new_link.rsplit("/", 1)[1]).id == before.id

    stranger = app.test_client()
    page = stranger.get(old_link)
    assert page.status_code == 410
    text = page.get_data(as_text=True)
    assert "no longer valid" in text and "most recent invitation email" in text
    assert "carol" not in text
    assert stranger.get(new_link).status_code == 303


@NO_WAIT
def test_resend_keeps_the_expiry(
    app: Flask, client: FlaskClient, alice: User, invitation: t.Any
) -> None:
    with app.app_context():
        expire(invitation.id, hours_ago=-4)  # it expires in four hours
        before = invitation_to("carol@example.com").expires_at
    assert act(client, "resend", invitation.id).json["status"] == "OK"
    with app.app_context():
        assert invitation_to("carol@example.com").expires_at == before


@pytest.mark.all_backends  # the interval is compared in SQL
def test_resend_is_rate_limited(
    app: Flask,
    client: FlaskClient,
    alice: User,
    invitation: t.Any,
    outbox: list[t.Any],
    kaleo: Kaleo[User],
) -> None:
    response = act(client, "resend", invitation.id)
    assert response.json["status"] == "ERROR"
    assert (
        "Try again in 4 min" in response.json["errors"]
        or "Try again in 5 min" in (response.json["errors"])
    )
    assert len(outbox) == 1
    with app.app_context():
        # Ten minutes later (moved in the database, not waited for):
        earlier = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=10)
        db.session.execute(
            sa.update(kaleo.JoinInvitation)
            .where(kaleo.JoinInvitation.id == invitation.id)
            .values(sent_at=earlier)
        )
        db.session.commit()
    assert act(client, "resend", invitation.id).json["status"] == "OK"
    response = act(client, "resend", invitation.id)  # resent_at counts now
    assert response.json["status"] == "ERROR" and len(outbox) == 2


@NO_WAIT
def test_resend_delivery_failure_keeps_the_old_link(
    app: Flask, client: FlaskClient, smtp: SMTPServer
) -> None:
    user = signed_in(client)
    assert post_invite(client, "carol@example.com").json["status"] == "OK"
    assert smtp.recipients() == ["carol@example.com"]
    with app.app_context():
        before = snapshot("carol@example.com")
    smtp.refuse.add("carol@example.com")
    response = act(client, "resend", before.id)
    assert response.json["status"] == "ERROR"
    assert "could not be delivered" in response.json["errors"]
    with app.app_context():
        after = invitation_to("carol@example.com")
        assert (after.token_digest, after.resent_at) == (before.token_digest, None)
        assert after.replaced_token_digest is None
        assert stat_row(user.id) == (3, 1, 0)
    smtp.refuse.clear()
    assert act(client, "resend", before.id).json["status"] == "OK"
    assert smtp.recipients() == ["carol@example.com", "carol@example.com"]


@NO_WAIT
def test_an_expired_invitation_cannot_be_resent(
    app: Flask,
    client: FlaskClient,
    alice: User,
    invitation: t.Any,
    outbox: list[t.Any],
    kaleo: Kaleo[User],
) -> None:
    with app.app_context():
        expire(invitation.id)
    response = act(client, "resend", invitation.id)
    assert response.json["status"] == "ERROR"
    assert "expired" in response.json["errors"]
    assert len(outbox) == 1
    with app.app_context():
        with pytest.raises(InvitationExpired):
            kaleo.resend(invitation_to("carol@example.com"))


# -- revoke --------------------------------------------------------------------------


def test_revoke_gives_the_invitation_back_and_kills_the_link(
    app: Flask,
    client: FlaskClient,
    alice: User,
    invitation: t.Any,
    outbox: list[t.Any],
    kaleo: Kaleo[User],
) -> None:
    link = link_of(outbox[0])
    visitor = app.test_client()
    assert visitor.get(link).status_code == 303  # remembered in the visitor's session
    with received(signals.invite_revoked) as calls:
        response = act(client, "revoke", invitation.id)
    body = response.json
    assert (body["status"], body["email"], body["invitations_remaining"]) == (
        "OK",
        "carol@example.com",
        3,
    )
    assert body["invitation"]["status"] == "revoked"
    assert body["message"] == "Invitation to carol@example.com revoked."
    assert "kaleo-revoke" not in body["html"] and 'class="revoked"' in body["html"]
    assert [call["invitation"] for call in calls] == [invitation.id]
    with app.app_context():
        revoked = invitation_to("carol@example.com")
        assert (revoked.status, revoked.pending_email_key) == ("revoked", None)
        assert stat_row(alice.id) == (3, 0, 0)
    with visitor:
        visitor.get("/signup")
        assert kaleo.pending_invitation() is None  # the remembered link is forgotten
    page = visitor.get(link)
    assert page.status_code == 410
    assert "Invitation revoked" in page.get_data(as_text=True)
    # The revoked invitation no longer blocks a new one to the same address.
    assert post_invite(client, "Carol@Example.com").json["status"] == "OK"


def test_revoke_twice_or_after_acceptance_is_refused(
    app: Flask, client: FlaskClient, alice: User, invitation: t.Any, kaleo: Kaleo[User]
) -> None:
    assert act(client, "revoke", invitation.id).json["status"] == "OK"
    response = act(client, "revoke", invitation.id)
    assert response.json["status"] == "ERROR" and "withdrawn" in response.json["errors"]
    assert post_invite(client, "dave@example.com").json["status"] == "OK"
    with app.app_context():
        dave = make_user("dave@example.com")
        accepted_id = kaleo.accept(invitation_to("dave@example.com"), dave).id
        db.session.commit()
        assert stat_row(alice.id) == (3, 1, 1)
    response = act(client, "revoke", accepted_id)
    assert response.json["status"] == "ERROR" and "already been used" in response.json["errors"]
    response = act(client, "resend", accepted_id)
    assert response.json["status"] == "ERROR"
    with app.app_context():
        assert stat_row(alice.id) == (3, 1, 1)
        with pytest.raises(InvitationRevoked):
            kaleo.revoke(invitation_to("carol@example.com"))


def test_an_expired_invitation_can_be_revoked(
    app: Flask, client: FlaskClient, alice: User, invitation: t.Any
) -> None:
    with app.app_context():
        expire(invitation.id)
    response = act(client, "revoke", invitation.id)
    assert response.json["status"] == "OK" and response.json["invitations_remaining"] == 3


# -- the guard -----------------------------------------------------------------------


@pytest.mark.parametrize("action", ["resend", "revoke"])
def test_someone_elses_invitation_is_a_404(
    app: Flask, client: FlaskClient, alice: User, invitation: t.Any, action: str
) -> None:
    signed_in(client, "mallory@example.com")
    for target in (invitation.id, 999999, "abc", "1e3"):
        response = act(client, action, target)
        assert response.status_code == 404 and response.json["status"] == "ERROR"
        assert "carol" not in response.get_data(as_text=True)
    with app.app_context():
        assert invitation_to("carol@example.com").status == "sent"
        assert stat_row(alice.id) == (3, 1, 0)


@pytest.mark.parametrize("action", ["resend", "revoke"])
def test_login_csrf_and_method_are_enforced(
    app: Flask, client: FlaskClient, alice: User, invitation: t.Any, action: str
) -> None:
    token = csrf_token(client)
    response = act(client, action, invitation.id, csrf=False)
    assert response.status_code == 400 and response.json["status"] == "ERROR"
    response = act(client, action, invitation.id, token="forged")
    assert response.status_code == 400
    response = client.get(f"/invites/{action}/{invitation.id}", headers=AJAX)
    assert response.status_code == 405 and response.json["status"] == "ERROR"
    logout(client)
    response = act(client, action, invitation.id, token=token)
    assert response.status_code == 401 and response.json["status"] == "ERROR"
    with app.app_context():
        assert invitation_to("carol@example.com").status == "sent"


@NO_WAIT
@pytest.mark.settings(WTF_CSRF_CHECK_DEFAULT=False)
def test_csrf_is_checked_without_global_protection(
    app: Flask, client: FlaskClient, alice: User, invitation: t.Any
) -> None:
    response = act(client, "revoke", invitation.id, csrf=False)
    assert response.status_code == 400
    assert act(client, "revoke", invitation.id).json["status"] == "OK"


@NO_WAIT
def test_browser_posts_go_back_to_the_row_which_says_it(
    app: Flask, client: FlaskClient, alice: User, invitation: t.Any
) -> None:
    headers = {**BROWSER, "Referer": "http://localhost/"}
    row = f"http://localhost/#kaleo-invitation-{invitation.id}"
    for action, said, refused in (
        ("resend", "sent again", False),
        ("revoke", "revoked", False),
        ("revoke", "withdrawn", True),
    ):
        response = act(client, action, invitation.id, headers=headers, confirm="yes")
        assert response.status_code == 303 and response.headers["Location"] == row
        with client.session_transaction() as session:
            assert "_flashes" not in session  # said in the row, not flashed as well
            outcome = session.pop("kaleo.outcome")
        assert outcome["id"] == invitation.id
        assert said in outcome["message"] and outcome["refused"] is refused


# -- the sent list and expiry everywhere ---------------------------------------------


def test_sent_list_has_no_forms_by_default(app: Flask, client: FlaskClient, alice: User) -> None:
    """Kaleo's original jQuery snippet runs $('.invites form').ajaxForm(...): a form in the default
    sent list would be sent as if it were the invite form."""
    assert post_invite(client, "dave@example.com").json["status"] == "OK"
    page = client.get("/").get_data(as_text=True)
    sent_list = page[page.index('<ul class="invite-list"') :]
    assert "<form" not in sent_list
    assert "data-kaleo-actions" not in sent_list


def test_sent_list_offers_actions_by_state(
    app: Flask, client: FlaskClient, alice: User, kaleo: Kaleo[User]
) -> None:
    for address in ("dave@example.com", "erin@example.com"):
        assert post_invite(client, address).json["status"] == "OK"
    with app.app_context():
        expire(invitation_to("dave@example.com").id)
        erin = make_user("erin@example.com")
        kaleo.accept(invitation_to("erin@example.com"), erin)
        db.session.commit()
    page = client.get("/manage").get_data(as_text=True)
    items = dict(
        re.findall(r'<li class="([^"]+)" data-invitation-id="\d+"[^>]*>(.*?)</li>', page, re.S)
    )
    assert set(items) == {"sent", "sent expired", "accepted"}
    assert "kaleo-resend" in items["sent"] and "kaleo-revoke" in items["sent"]
    assert "kaleo-resend" not in items["sent expired"] and "kaleo-revoke" in items["sent expired"]
    assert "<form" not in items["accepted"]
    assert 'name="csrf_token"' in items["sent"]
    # A plain post of the list's revoke form works.
    action = re.search(r'action="([^"]+)" class="kaleo-revoke"', items["sent expired"])
    token = re.search(r'name="csrf_token" value="([^"]+)"', items["sent expired"])
    response = client.post(action.group(1), data={"csrf_token": token.group(1)}, headers=BROWSER)
    assert response.status_code == 200 and "Revoke the invitation to" in response.text  # asks
    with app.app_context():
        assert invitation_to("dave@example.com").status == "sent"
    confirm = {"csrf_token": token.group(1), "confirm": "yes"}
    response = client.post(action.group(1), data=confirm, headers=BROWSER)
    assert response.status_code == 303
    with app.app_context():
        assert invitation_to("dave@example.com").status == "revoked"


@pytest.mark.all_backends  # "expired" is a comparison of times in SQL
def test_expiry_on_accept_and_pending_invitation(
    app: Flask,
    client: FlaskClient,
    alice: User,
    invitation: t.Any,
    outbox: list[t.Any],
    kaleo: Kaleo[User],
) -> None:
    link = link_of(outbox[0])
    visitor = app.test_client()
    assert visitor.get(link).status_code == 303
    with app.app_context():
        expire(invitation.id)
        carol = make_user("carol@example.com")
        with pytest.raises(InvitationExpired):
            kaleo.accept(invitation_to("carol@example.com"), carol)
        db.session.rollback()
        assert stat_row(alice.id) == (3, 1, 0)
    with visitor:
        visitor.get("/signup")
        assert kaleo.pending_invitation() is None
    page = visitor.get(link)
    assert page.status_code == 410 and "Invitation expired" in page.get_data(as_text=True)
    with app.app_context():
        stats = kaleo.report()
    assert (stats.sent, stats.pending, stats.expired) == (1, 0, 1)


@pytest.mark.all_backends
def test_stats_count_every_state_in_one_query(
    app: Flask, client: FlaskClient, alice: User, statements: Statements, kaleo: Kaleo[User]
) -> None:
    for address in ("dave@example.com", "erin@example.com"):
        assert post_invite(client, address).json["status"] == "OK"
    with app.app_context():
        erin = make_user("erin@example.com")
        kaleo.accept(invitation_to("erin@example.com"), erin)
        db.session.commit()
        expire(invitation_to("dave@example.com").id)
    assert act(client, "revoke", invitation_of_id(app, "carol@example.com")).json["status"] == "OK"
    with app.app_context(), statements:
        figures = kaleo.report()
    assert statements.count == 1
    assert figures.as_dict() == {
        "sent": 3,
        "accepted": 1,
        "joined_independently": 0,
        "pending": 0,
        "expired": 1,
        "revoked": 1,
        "undeliverable": 0,
        "acceptance_rate": pytest.approx(1 / 3),
    }


def invitation_of_id(app: Flask, email: str) -> int:
    with app.app_context():
        return int(invitation_to(email).id)


@NO_WAIT
def test_python_api_resend_and_revoke(
    app: Flask, alice: User, outbox: list[t.Any], kaleo: Kaleo[User]
) -> None:
    with app.test_request_context():
        invitation = invitation_to("carol@example.com")
        old = invitation.token_digest
        kaleo.resend(invitation)
        assert invitation.token and token_digest(invitation.token) == invitation.token_digest
        assert invitation.replaced_token_digest == old
        assert len(outbox) == 2
        kaleo.revoke(invitation)
        assert invitation.status == "revoked"
        with pytest.raises(InvitationRevoked):
            kaleo.resend(invitation)
        assert stat_row(alice.id) == (3, 0, 0)


def test_resend_too_soon_from_the_api(app: Flask, alice: User, kaleo: Kaleo[User]) -> None:
    with app.test_request_context():
        with pytest.raises(ResendTooSoon):
            kaleo.resend(invitation_to("carol@example.com"))


@NO_WAIT
def test_resend_respects_the_invite_permission(
    app: Flask, client: FlaskClient, alice: User, invitation: t.Any, invite_hook: SetHook
) -> None:
    invite_hook(lambda user: False)
    response = act(client, "resend", invitation.id)
    assert response.json["status"] == "ERROR" and "not allowed" in response.json["errors"]
    assert act(client, "revoke", invitation.id).json["status"] == "OK"


@pytest.mark.all_backends
@pytest.mark.settings(KALEO_RESEND_INTERVAL=dt.timedelta(0))
@pytest.mark.parametrize("action", ["accept", "revoke", "resend"])
def test_a_row_that_vanished_is_no_longer_pending_not_a_crash(
    app: Flask, action: str, kaleo: Kaleo[User]
) -> None:
    """Purged, or gone with its inviter, between being read and being acted on."""
    with app.app_context():
        alice = make_user("alice@example.com", allocation=2)
        invitation_id = make_invitation(alice, "dave@example.com").id
        alice_id, carol_id = alice.id, make_user("carol@example.com").id
    with app.test_request_context():
        invitation = db.session.get_one(kaleo.JoinInvitation, invitation_id)
        with db.engine.begin() as connection:  # someone else deletes it meanwhile
            model = kaleo.JoinInvitation
            connection.execute(sa.delete(model).where(model.id == invitation_id))
        with pytest.raises(InvitationNotPending, match="no longer exists"):
            if action == "accept":
                kaleo.accept(invitation, db.session.get_one(User, carol_id))
            else:
                getattr(kaleo, action)(invitation)
        db.session.rollback()
        assert stat_row(alice_id) == (2, 0, 0)
