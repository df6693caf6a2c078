"""Suspending a member's inviting: suspend and resume, every way of inviting it
refuses (the endpoint, ``kaleo.invite``, links, resend, extend, reminders, the CLI),
the reason kept from the member unless the app shows it, and ``revoke_pending``."""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest
import sqlalchemy as sa
from flask import Flask
from flask import render_template_string
from flask.testing import FlaskClient

from flask_kaleo import NEVER
from flask_kaleo import UNLIMITED
from flask_kaleo import InvitationRevoked
from flask_kaleo import Kaleo
from flask_kaleo.core import audit
from flask_kaleo.exceptions import InvitingSuspended
from tests.helpers import AJAX
from tests.helpers import Statements
from tests.helpers import age
from tests.helpers import assert_counters_match_rows
from tests.helpers import assert_error
from tests.helpers import csrf_token
from tests.helpers import current_kaleo
from tests.helpers import fresh
from tests.helpers import invitation_count
from tests.helpers import invitation_to
from tests.helpers import make_user
from tests.helpers import post_invite
from tests.helpers import signed_in
from tests.helpers import stat_row
from tests.hostapp import User
from tests.hostapp import db

pytestmark = [pytest.mark.all_backends, pytest.mark.settings(KALEO_SITE_URL="http://localhost")]
REASON = "Sent 40 invitations to a spam list"
PAUSED = "Staff have paused your invitations."


def suspension(user_id: int) -> tuple[t.Any, t.Any]:
    """The stat row's ``(inviting_suspended_at, suspension_reason)``, read fresh."""
    stat = current_kaleo().InvitationStat.__table__
    row = db.session.execute(
        sa.select(stat.c.inviting_suspended_at, stat.c.suspension_reason).where(
            stat.c.user_id == user_id
        )
    ).one()
    return row[0], row[1]


def suspend(user: User, **options: t.Any) -> t.Any:
    """Suspend ``user`` (in the current app context) for :data:`REASON`."""
    return current_kaleo().suspend_inviting(db.session.merge(user), REASON, **options)


def test_suspend_then_resume(app: Flask, kaleo: Kaleo[User]) -> None:
    with app.app_context():
        alice = make_user("alice@example.com", 3)
        report = kaleo.suspend_inviting(alice, f"  {REASON}\n", by="command line")
        assert (report.suspended, report.revoked_invitations, report.revoked_links) == (1, 0, 0)
        since, reason = suspension(alice.id)
        assert since is not None and reason == REASON  # stripped
        assert kaleo.allocation(alice).inviting_suspended
        again = kaleo.suspend_inviting(alice, "another reason")
        assert again.suspended == 0  # not newly: the first time and reason stay
        assert suspension(alice.id) == (since, REASON)
        assert kaleo.resume_inviting(alice, by="command line") is True
        assert suspension(alice.id) == (None, None)
        assert kaleo.resume_inviting(alice) is False
        kaleo.invite(alice, "carol@example.com")  # inviting again
        assert stat_row(alice.id) == (3, 1, 0)


def test_a_member_without_a_stat_row_is_given_one(app: Flask, kaleo: Kaleo[User]) -> None:
    with app.app_context():
        alice = make_user("alice@example.com")
        assert kaleo.suspend_inviting(alice, REASON).suspended == 1
        assert stat_row(alice.id) == (0, 0, 0)
        assert suspension(alice.id)[1] == REASON


@pytest.mark.parametrize("reason", ["", "   \n", None, 42, "x" * 1001])
def test_a_reason_is_required_and_bounded(app: Flask, kaleo: Kaleo[User], reason: t.Any) -> None:
    with app.app_context():
        alice = make_user("alice@example.com", 3)
        with pytest.raises(ValueError, match="reason"):
            kaleo.suspend_inviting(alice, reason)
        assert suspension(alice.id) == (None, None)
        assert kaleo.audit_log() == []
        kaleo.suspend_inviting(alice, "x" * 1000)  # the longest accepted


# -- every way of inviting refuses ----------------------------------------------------


def test_the_invite_endpoint_refuses_without_the_reason(app: Flask, client: FlaskClient) -> None:
    alice = signed_in(client, allocation=3)
    with app.app_context():
        suspend(alice)
    response = post_invite(client, "carol@example.com")
    errors = assert_error(response, code="inviting_suspended", text=PAUSED)
    assert "spam" not in response.get_data(as_text=True), errors
    with app.app_context():
        assert stat_row(alice.id) == (3, 0, 0)
        assert invitation_count() == 0


@pytest.mark.settings(KALEO_SHOW_SUSPENSION_REASON=True)
def test_the_reason_is_shown_when_the_app_says_so(app: Flask, client: FlaskClient) -> None:
    alice = signed_in(client, allocation=3)
    with app.app_context():
        suspend(alice)
    response = post_invite(client, "carol@example.com")
    assert_error(response, code="inviting_suspended", text=f"{PAUSED[:-1]}: {REASON}")


@pytest.mark.parametrize("allocation", [3, UNLIMITED, 0])
@pytest.mark.parametrize("force", [False, True])
def test_invite_refuses_unlimited_and_forced_too(
    app: Flask, kaleo: Kaleo[User], allocation: int, force: bool
) -> None:
    with app.app_context():
        alice = make_user("alice@example.com", allocation)
        suspend(alice)
        with app.test_request_context(), pytest.raises(InvitingSuspended) as refused:
            kaleo.invite(db.session.merge(alice), "carol@example.com", force=force)
        assert str(refused.value) == PAUSED
        assert refused.value.reason == REASON and refused.value.code == "inviting_suspended"
        assert stat_row(alice.id) == (allocation, 0, 0)
        assert invitation_count() == 0


def test_no_shareable_link_is_created(app: Flask, kaleo: Kaleo[User]) -> None:
    with app.test_request_context():
        alice = make_user("alice@example.com", 10)
        suspend(alice)
        with pytest.raises(InvitingSuspended):
            kaleo.create_link(alice, 3)
        assert stat_row(alice.id) == (10, 0, 0)
        assert db.session.scalar(sa.select(sa.func.count(kaleo.InvitationLink.id))) == 0


@pytest.mark.settings(KALEO_RESEND_INTERVAL=dt.timedelta(0))
def test_no_resend_and_no_extension(app: Flask, kaleo: Kaleo[User], manage_hook: t.Any) -> None:
    manage_hook(lambda user: True)  # staff may extend past the bounds: not while suspended
    with app.test_request_context():
        alice = make_user("alice@example.com", 3)
        invitation = kaleo.invite(alice, "carol@example.com")
        digest, expires = invitation.token_digest, invitation.expires_at
        suspend(alice)
        invitation = invitation_to("carol@example.com")
        with pytest.raises(InvitingSuspended):
            kaleo.resend(invitation, by="command line")
        with pytest.raises(InvitingSuspended):
            kaleo.extend(invitation, by=dt.timedelta(days=1))
        with pytest.raises(InvitingSuspended):
            kaleo.extend(invitation, to=NEVER, actor="command line")
        db.session.expire_all()
        invitation = invitation_to("carol@example.com")
        assert (invitation.token_digest, invitation.expires_at) == (digest, expires)
        assert invitation.resent_at is None
        assert [entry.action for entry in kaleo.audit_log()] == ["suspend"]


def test_reminders_skip_a_suspended_inviter_until_resumed(
    app: Flask, kaleo: Kaleo[User], outbox: list[t.Any]
) -> None:
    with app.app_context():
        alice = make_user("alice@example.com", 3)
        with app.test_request_context():
            invitation = kaleo.invite(db.session.merge(alice), "carol@example.com")
        age(invitation.id, 4)
        suspend(alice)
        report = kaleo.remind(dt.timedelta(days=3))
        assert (report.reminded, report.skipped) == (0, 1)
        assert invitation_to("carol@example.com").reminded_at is None
        kaleo.resume_inviting(db.session.merge(alice))
        assert kaleo.remind(dt.timedelta(days=3)).reminded == 1
    assert len(outbox) == 2  # the invitation, then its reminder once resumed


@pytest.mark.settings(KALEO_ALLOW_LINKS=True)
def test_the_link_endpoint_refuses_as_suspended(app: Flask, client: FlaskClient) -> None:
    alice = signed_in(client, allocation=5)
    with app.app_context():
        suspend(alice)
    form = {"uses": "2", "csrf_token": csrf_token(client)}
    response = client.post("/invites/links", data=form, headers=AJAX)
    assert_error(response, code="inviting_suspended", text=PAUSED)
    with app.app_context():
        assert stat_row(alice.id) == (5, 0, 0)


def test_import_invites_refuses_every_row(app: Flask, tmp_path: t.Any) -> None:
    with app.app_context():
        suspend(make_user("alice@example.com", 5))
    rows = tmp_path / "rows.csv"
    rows.write_text("email\ncarol@example.com\ndave@example.com\n", "utf-8")
    result = app.test_cli_runner().invoke(
        args=["kaleo", "import-invites", "alice@example.com", str(rows)]
    )
    assert result.exit_code == 1, result.output
    assert result.output.count(PAUSED) == 2
    assert "Sent 0 invitations, refused 2" in result.output


def test_the_cli_invite_exits_with_the_message(app: Flask, kaleo: Kaleo[User]) -> None:
    with app.app_context():
        suspend(make_user("alice@example.com", 3))
    for command in (["invite"], ["invite", "--force"], ["invite", "--no-send"]):
        result = app.test_cli_runner().invoke(
            args=["kaleo", *command, "alice@example.com", "carol@example.com"]
        )
        assert result.exit_code == 1, result.output
        assert PAUSED in result.output


def test_the_invite_form_says_inviting_is_paused(app: Flask, kaleo: Kaleo[User]) -> None:
    template = '{% from "kaleo/macros.html" import invite_form %}{{ invite_form(user) }}'
    with app.test_request_context("/"):
        alice = make_user("alice@example.com", 3)
        suspend(alice)
        markup = render_template_string(template, user=db.session.merge(alice))
        assert PAUSED in markup and "<form" not in markup and "spam" not in markup
        kaleo.resume_inviting(db.session.merge(alice))
        assert "<form" in render_template_string(template, user=db.session.merge(alice))


@pytest.mark.settings(KALEO_SHOW_SUSPENSION_REASON=True)
def test_the_invite_form_gives_the_reason_when_the_app_says_so(app: Flask) -> None:
    template = '{% from "kaleo/macros.html" import invite_form %}{{ invite_form(user) }}'
    with app.test_request_context("/"):
        alice = make_user("alice@example.com", 3)
        current_kaleo().suspend_inviting(alice, "Spam & <abuse>")
        markup = render_template_string(template, user=db.session.merge(alice))
        assert "Staff have paused your invitations: Spam &amp; &lt;abuse&gt;" in markup


def test_invitations_already_sent_stay_acceptable(app: Flask, kaleo: Kaleo[User]) -> None:
    with app.test_request_context():
        alice = make_user("alice@example.com", 3)
        kaleo.invite(alice, "carol@example.com")
        suspend(alice)
        carol = make_user("carol@example.com")
        kaleo.accept(invitation_to("carol@example.com"), carol)
        db.session.commit()
        assert stat_row(alice.id) == (3, 1, 1)


# -- revoke_pending -------------------------------------------------------------------


def pending_of_every_kind(kaleo: Kaleo[User], alice: User) -> tuple[int, int]:
    """Alice (2 left of 3) sends two invitations, a forced one, and a 3-use link one
    person joined through; one earlier invitation was accepted. The link's id and
    the accepted invitation's id."""
    kaleo.invite(alice, "dave@example.com")
    kaleo.invite(alice, "erin@example.com")
    kaleo.invite(alice, "frank@example.com", force=True)
    kaleo.set_allocation(alice, 7)
    link = kaleo.create_link(alice, 3)
    accepted = kaleo.invite(alice, "carol@example.com")
    kaleo.accept(accepted, make_user("carol@example.com"))
    kaleo.accept(link, make_user("gina@example.com"))
    db.session.commit()
    return link.id, accepted.id


def test_revoke_pending_revokes_and_gives_back_at_once(app: Flask, kaleo: Kaleo[User]) -> None:
    with app.test_request_context():
        alice = make_user("alice@example.com", 2)
        link_id, accepted_id = pending_of_every_kind(kaleo, alice)
        assert stat_row(alice.id) == (7, 4 + 3, 2)
        report = suspend(fresh_user(alice), revoke_pending=True, by="command line")
        assert (report.suspended, report.revoked_invitations, report.revoked_links) == (1, 3, 1)
        db.session.expire_all()
        # back: three invitations and the link's two unused uses; the forced one lowers
        # the allocation it raised
        assert stat_row(alice.id) == (6, 2, 2)
        assert_counters_match_rows(alice.id)
        link = db.session.get_one(kaleo.InvitationLink, link_id)
        assert (link.display_status, link.given_back) == ("revoked", 2)
        states = {i.email: i.status for i in kaleo.sent_invitations(fresh_user(alice))}
        assert states == {
            "dave@example.com": "revoked",
            "erin@example.com": "revoked",
            "frank@example.com": "revoked",
            "carol@example.com": "accepted",
        }
        with pytest.raises(InvitationRevoked):
            kaleo.accept(invitation_to("dave@example.com"), make_user("dave@example.com"))
        [entry] = kaleo.audit_log(action="suspend")
        assert entry.detail is not None and '"revoked_invitations": 3' in entry.detail
        assert db.session.get_one(kaleo.JoinInvitation, accepted_id).status == "accepted"


def test_revoke_pending_rolls_back_with_a_failure(
    app: Flask, kaleo: Kaleo[User], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure after the audit entry's INSERT rolls back the suspension, the revokes
    and the give-back together."""
    with app.test_request_context():
        alice = make_user("alice@example.com", 2)
        link_id, _ = pending_of_every_kind(kaleo, alice)
        before = stat_row(alice.id)
        write = audit.write

        def write_then_fail(*args: t.Any) -> None:
            write(*args)
            raise RuntimeError("after the audit entry")

        monkeypatch.setattr(audit, "write", write_then_fail)
        with pytest.raises(RuntimeError, match="after the audit entry"):
            suspend(fresh_user(alice), revoke_pending=True)
        db.session.expire_all()
        assert stat_row(alice.id) == before
        assert suspension(alice.id) == (None, None)
        assert db.session.get_one(kaleo.InvitationLink, link_id).display_status == "active"
        assert invitation_to("dave@example.com").status == "sent"
        assert kaleo.audit_log()[0].action == "set_allocation"


def fresh_user(user: User) -> User:
    fresh(user)
    return user


# -- a subtree ------------------------------------------------------------------------


def bring_in(kaleo: Kaleo[User], inviter: User, email: str) -> User:
    """``inviter`` invites ``email`` (no email sent), who joins and gets 5 to send."""
    invitation = kaleo.invite(inviter, email, send=False)
    user = make_user(email)
    kaleo.accept(invitation, user)
    db.session.commit()
    kaleo.set_allocation(user, 5)
    return user


def test_a_subtree_is_suspended_to_its_depth(app: Flask, kaleo: Kaleo[User]) -> None:
    """alice brought in bob and erin; bob brought in carol, who brought in dave. Two
    levels below alice: bob, erin and carol, not dave; erin was suspended already."""
    with app.test_request_context():
        alice = make_user("alice@example.com", 5)
        bob, erin = (bring_in(kaleo, alice, f"{name}@example.com") for name in ("bob", "erin"))
        carol = bring_in(kaleo, bob, "carol@example.com")
        dave = bring_in(kaleo, carol, "dave@example.com")
        kaleo.invite(bob, "frank@example.com")
        kaleo.invite(dave, "gina@example.com")
        kaleo.suspend_inviting(erin, "earlier")
        report = kaleo.suspend_inviting(
            fresh_user(alice), REASON, by="command line", subtree=2, revoke_pending=True
        )
        assert (report.suspended, report.revoked_invitations, report.revoked_links) == (3, 1, 0)
        ids = {user.email: user.id for user in (alice, bob, erin, carol, dave)}
        reasons = {email: suspension(user_id)[1] for email, user_id in ids.items()}
        assert reasons == {
            "alice@example.com": REASON,
            "bob@example.com": REASON,
            "erin@example.com": "earlier",  # the first suspension stands
            "carol@example.com": REASON,
            "dave@example.com": None,
        }
        assert invitation_to("frank@example.com").status == "revoked"
        assert invitation_to("gina@example.com").status == "sent"
        entries = kaleo.audit_log(action="suspend")
        targets = sorted(entry.target_label for entry in entries if entry.reason == REASON)
        assert targets == ["alice@example.com", "bob@example.com", "carol@example.com"]
        for user_id in ids.values():
            assert_counters_match_rows(user_id)


def test_a_negative_subtree_is_refused(app: Flask, kaleo: Kaleo[User]) -> None:
    with app.app_context():
        alice = make_user("alice@example.com", 5)
        wrong: tuple[t.Any, ...] = (-1, 1.5, True)
        for subtree in wrong:
            with pytest.raises(ValueError, match="subtree"):
                kaleo.suspend_inviting(alice, REASON, subtree=subtree)
        assert suspension(alice.id) == (None, None)


def test_revoke_pending_costs_the_same_statements_for_more_pending(
    app: Flask, kaleo: Kaleo[User], statements: Statements
) -> None:
    counts = []
    with app.test_request_context():
        for name, pending in (("alice", 2), ("bob", 20)):
            member = make_user(f"{name}@example.com", 100)
            for number in range(pending):
                kaleo.invite(member, f"{name}-friend{number}@example.com", send=False)
            for _ in range(pending // 2):
                kaleo.create_link(member, 2)
            with statements:
                report = kaleo.suspend_inviting(member, REASON, revoke_pending=True)
            assert (report.revoked_invitations, report.revoked_links) == (pending, pending // 2)
            audit_rows = [s for s, _ in statements.starting("INSERT") if "audit" in s]
            assert len(audit_rows) == 1
            counts.append(statements.count)
            assert_counters_match_rows(member.id)
    assert counts[0] == counts[1], counts
