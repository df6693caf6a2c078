"""KALEO_MEMBER_PRIVACY, "quiet" and "notify": a member's
address is answered exactly like a stranger's, is never mailed an invitation and can
never be accepted. A real SMTP server records what was actually sent."""

from __future__ import annotations

import datetime as dt
import re
import typing as t

import pytest
from flask import Flask
from flask.testing import FlaskClient

from flask_kaleo import InvitationNotPending
from flask_kaleo import Kaleo
from flask_kaleo import Status
from flask_kaleo.core.tokens import new_token
from tests.helpers import AJAX
from tests.helpers import SMTPServer
from tests.helpers import csrf_token
from tests.helpers import expire
from tests.helpers import invitation_to
from tests.helpers import login
from tests.helpers import make_user
from tests.helpers import message_text
from tests.helpers import post_invite
from tests.helpers import stat_row
from tests.hostapp import User
from tests.hostapp import db

PRIVATE = pytest.mark.settings(KALEO_MEMBER_PRIVACY="quiet", KALEO_RESEND_INTERVAL=dt.timedelta(0))
TIMES = re.compile(r"\d{4}-\d\d-\d\dT[\d:.]+(\+00:00)?")


def member_client(app: Flask, email: str, allocation: int = 3) -> tuple[FlaskClient, t.Any]:
    client = app.test_client()
    with app.app_context():
        user = make_user(email, allocation)
    login(client, user)
    return client, user


def normalised(body: dict[str, t.Any], address: str) -> str:
    """The answer with its address, ids and times blanked: what may differ."""
    text = repr(body).replace(address, "ADDRESS")
    text = re.sub(
        r"(/invites/\w+/|kaleo-invitation-|data-invitation-id=\\?\"|'id': )\d+", r"\1ID", text
    )
    return TIMES.sub("TIME", text)


def sent_list(client: FlaskClient, address: str) -> str:
    """The inviter's sent list (with its actions), its address and ids blanked."""
    page = client.get("/manage").get_data(as_text=True)
    page = page.replace(address, "ADDRESS")
    page = re.sub(r'value="[^"]{40,}"', "CSRF", page)
    page = re.sub(r"<time [^>]*>[^<]*</time>", "TIME", page)  # when each expires
    return re.sub(
        r'(/invites/\w+/|kaleo-invitation-|kaleo-menu-|kaleo-resend-at-|data-invitation-id=")\d+',
        r"\1ID",
        page,
    )


@pytest.mark.all_backends
@PRIVATE
def test_a_members_address_is_answered_like_a_strangers(app: Flask, smtp: SMTPServer) -> None:
    """Not "bob@example.com is already a member." but the same OK as for a stranger:
    the count drops, the list shows it pending; no email reaches bob."""
    with app.app_context():
        make_user("bob@example.com")
    alice, alice_user = member_client(app, "alice@example.com")
    dave, dave_user = member_client(app, "dave@example.com")
    to_member = post_invite(alice, "Bob@example.com", "Come along")
    to_stranger = post_invite(dave, "zoe@example.com", "Come along")
    assert to_member.status_code == to_stranger.status_code == 200
    assert to_member.json["status"] == "OK" and to_member.json["invitations_remaining"] == 2
    assert normalised(to_member.json, "Bob@example.com") == normalised(
        to_stranger.json, "zoe@example.com"
    )
    assert sent_list(alice, "Bob@example.com") == sent_list(dave, "zoe@example.com")
    # Only the stranger was mailed.
    assert smtp.recipients() == ["zoe@example.com"]
    assert "Come along" in message_text(smtp.messages[0], "plain")
    with app.app_context():
        invitation = invitation_to("Bob@example.com")
        assert invitation.to_member and not invitation_to("zoe@example.com").to_member
        assert invitation.display_status == "sent" and invitation.is_pending
        assert stat_row(alice_user.id) == stat_row(dave_user.id) == (3, 1, 0)
        invitation_id = invitation.id
    # Inviting the member again is "already invited", as for anyone invited twice.
    for client, address in ((alice, "bob@example.com"), (dave, "ZOE@example.com")):
        body = post_invite(client, address).json
        assert body["status"] == "ERROR"
        assert body["error_list"]["email_address"] == [f"You have already invited {address}."]
    # Resending answers OK too, and still mails nothing to the member.
    response = alice.post(
        f"/invites/resend/{invitation_id}", data={"csrf_token": csrf_token(alice)}, headers=AJAX
    )
    assert response.json["status"] == "OK", response.json
    assert smtp.recipients() == ["zoe@example.com"]
    # It expires like any other, and can be revoked (given back) like any other.
    with app.app_context():
        expire(invitation_id)
    assert "expired" in sent_list(alice, "Bob@example.com")
    response = alice.post(
        f"/invites/revoke/{invitation_id}", data={"csrf_token": csrf_token(alice)}, headers=AJAX
    )
    assert response.json["status"] == "OK"
    with app.app_context():
        assert stat_row(alice_user.id) == (3, 0, 0)


@pytest.mark.all_backends
@PRIVATE
def test_an_invitation_to_a_member_can_never_be_accepted(
    app: Flask, smtp: SMTPServer, kaleo: Kaleo[User]
) -> None:
    with app.app_context():
        bob = make_user("bob@example.com")
        alice = make_user("alice@example.com", 3)
        invitation = kaleo.invite(alice, "bob@example.com", "hi")
        assert invitation.to_member and invitation.token is not None
        token = invitation.token
        with pytest.raises(InvitationNotPending, match="can no longer be accepted"):
            kaleo.accept(invitation, make_user("mallory@example.com"))
        db.session.rollback()
        # Bob confirming his address does not make it "joined" either: that would tell.
        assert kaleo.process_independent_joins(bob, "bob@example.com") == []
        db.session.commit()
        assert invitation_to("bob@example.com").status == Status.SENT.value
    # Its link (never mailed) is as unknown as a wrong one.
    visitor = app.test_client()
    unknown = visitor.get(f"/invites/accept/{new_token()[0]}")
    response = visitor.get(f"/invites/accept/{token}")
    assert response.status_code == unknown.status_code == 404
    assert response.get_data() == unknown.get_data()
    assert smtp.messages == []


@PRIVATE
@pytest.mark.settings(KALEO_MEMBER_PRIVACY="notify")
def test_the_member_may_be_told_someone_tried(app: Flask, smtp: SMTPServer) -> None:
    """With KALEO_MEMBER_PRIVACY = "notify" the member gets a short notice, at the address of
    their account: no link, no inviter, never the inviter's message; once."""
    with app.app_context():
        make_user("bob@example.com")
    alice, _ = member_client(app, "alice@example.com")
    body = post_invite(alice, "BOB@example.com", "Buy cheap watches at spam.example").json
    assert body["status"] == "OK"
    assert smtp.recipients() == ["bob@example.com"]
    notice = smtp.messages[0]
    assert notice["Subject"] == "Someone tried to invite you to localhost"
    for part in ("plain", "html"):
        text = message_text(notice, part)
        assert "tried to invite you" in text and "already have an account" in text
        for absent in ("spam.example", "alice", "/invites/accept/"):
            assert absent not in text
    with app.app_context():
        invitation_id = invitation_to("BOB@example.com").id
    response = alice.post(
        f"/invites/resend/{invitation_id}", data={"csrf_token": csrf_token(alice)}, headers=AJAX
    )
    assert response.json["status"] == "OK"
    assert len(smtp.messages) == 1  # a resend never mails the member again


@PRIVATE
@pytest.mark.settings(KALEO_MEMBER_PRIVACY="notify", KALEO_SITE_URL="https://beta.example.org")
@pytest.mark.settings(KALEO_DELIVERY="queue")
def test_queued_invitations_to_members_go_through_the_worker(
    app: Flask, smtp: SMTPServer, kaleo: Kaleo[User]
) -> None:
    queued: list[int] = []
    kaleo.delivery_queue(queued.append)
    with app.app_context():
        make_user("bob@example.com")
        alice = make_user("alice@example.com", 3)
        to_member = kaleo.invite(alice, "bob@example.com", "hello")
        to_stranger = kaleo.invite(alice, "zoe@example.com", "hello")
        assert queued == [to_member.id, to_stranger.id]
        assert to_member.display_status == to_stranger.display_status == "sending"
        assert [kaleo.deliver(number) for number in queued] == ["delivered", "delivered"]
        assert invitation_to("bob@example.com").display_status == "sent"
    assert smtp.recipients() == ["bob@example.com", "zoe@example.com"]
    assert "tried to invite you" in message_text(smtp.messages[0], "plain")
    assert "/invites/accept/" in message_text(smtp.messages[1], "plain")


def test_by_default_a_member_is_refused_as_in_kaleo(app: Flask, smtp: SMTPServer) -> None:
    with app.app_context():
        make_user("bob@example.com")
    alice, _ = member_client(app, "alice@example.com")
    body = post_invite(alice, "bob@example.com").json
    assert body["error_list"]["email_address"] == ["bob@example.com is already a member."]
    assert smtp.messages == []
