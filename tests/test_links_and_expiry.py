"""Invitations created without email (``send=False``), expiry chosen per invitation
within the bounds, "never", and extending: through the endpoint, the Python API and
the CLI; the database-facing parts on all three databases."""

from __future__ import annotations

import datetime as dt
import re
import threading
import typing as t

import pytest
import sqlalchemy as sa
from flask import Flask
from flask import render_template_string
from flask.testing import FlaskClient

import flask_kaleo.core.accepting
import flask_kaleo.core.lifecycle
import flask_kaleo.models.invitation
from flask_kaleo import NEVER
from flask_kaleo import ExpiryOutOfBounds
from flask_kaleo import InvitationExpired
from flask_kaleo import InvitationRevoked
from flask_kaleo import Kaleo
from flask_kaleo import LinksNotAllowed
from flask_kaleo import MemberLimitReached
from flask_kaleo import NotEnoughInvitations
from flask_kaleo.models import utcnow
from tests.helpers import AJAX
from tests.helpers import BROWSER
from tests.helpers import POOL
from tests.helpers import SetHook
from tests.helpers import accept_link
from tests.helpers import assert_counters_match_rows
from tests.helpers import assert_error
from tests.helpers import csrf_token
from tests.helpers import expire
from tests.helpers import invitation_to
from tests.helpers import join
from tests.helpers import kaleo_of
from tests.helpers import make_invitation
from tests.helpers import make_user
from tests.helpers import post_invite
from tests.helpers import race
from tests.helpers import reconfigure
from tests.helpers import signed_in
from tests.hostapp import User
from tests.hostapp import db

# Links built outside a request (the Python API) need the site's address.
pytestmark = pytest.mark.settings(KALEO_SITE_URL="http://localhost")
LINKS = pytest.mark.settings(KALEO_ALLOW_LINKS=True)
HOUR = dt.timedelta(hours=1)


def post(client: FlaskClient, path: str, **data: str) -> t.Any:
    return client.post(path, data={"csrf_token": csrf_token(client), **data}, headers=AJAX)


def create_link(client: FlaskClient, email: str, **data: str) -> t.Any:
    return post(client, "/invites/invite", email_address=email, send="0", **data)


def close_to(when: dt.datetime | None, expected: dt.datetime) -> bool:
    return when is not None and abs(when - expected) < dt.timedelta(minutes=1)


# -- links without email ------------------------------------------------------------


@pytest.mark.all_backends
def test_send_false_spends_records_and_hands_the_link_over_once(
    app_ctx: None, outbox: list[t.Any], kaleo: Kaleo[User]
) -> None:
    alice = make_user("alice@example.com", 3)
    invitation = kaleo.invite(alice, "carol@example.com", send=False)
    assert outbox == []  # nothing mailed
    assert invitation.accept_url is not None and invitation.token is not None
    assert invitation.accept_url.endswith(f"/invites/accept/{invitation.token}")
    assert assert_counters_match_rows(alice.id) == (3, 1, 0)
    db.session.expunge_all()
    stored = invitation_to("carol@example.com")
    assert (stored.link_only, stored.display_status) == (True, "link")
    assert stored.delivered_at is not None  # nothing waits for a delivery
    assert stored.accept_url is None  # read back, the link is gone: only its digest stays
    assert kaleo.deliver(older_than=dt.timedelta(0)).delivered == 0
    assert outbox == []
    # The address's day is untouched: a link is not an email.
    send_log = kaleo.InvitationSend.__table__
    assert db.session.scalar(sa.select(sa.func.count()).select_from(send_log)) == 0


@pytest.mark.all_backends
def test_the_link_is_accepted_like_a_mailed_one(
    app: Flask, client: FlaskClient, kaleo: Kaleo[User]
) -> None:
    with app.app_context():
        alice = make_user("alice@example.com", 3)
        url = kaleo.invite(alice, "carol@example.com", send=False).accept_url
    assert url is not None
    assert join(app, accept_link(url)[1], "carol@example.com").status_code == 201
    with app.app_context():
        assert invitation_to("carol@example.com").status == "accepted"
        assert assert_counters_match_rows(alice.id) == (3, 1, 1)


@pytest.mark.settings(KALEO_RATE_LIMITS={"member": 1, "address": 1})
def test_links_are_not_counted_by_the_daily_sending_limits(
    app_ctx: None, kaleo: Kaleo[User]
) -> None:
    alice = make_user("alice@example.com", 5)
    kaleo.invite(alice, "one@example.com", send=False)
    kaleo.invite(alice, "two@example.com", send=False)
    kaleo.invite(alice, "three@example.com")  # the day's one email
    with pytest.raises(MemberLimitReached):
        kaleo.invite(alice, "four@example.com")
    kaleo.invite(alice, "four@example.com", send=False)
    assert assert_counters_match_rows(alice.id) == (5, 4, 0)


@LINKS
def test_endpoint_answers_the_link_in_the_json(app: Flask, client: FlaskClient) -> None:
    signed_in(client)
    response = create_link(client, "carol@example.com")
    body = response.json
    assert (body["status"], body["email"], body["invitations_remaining"]) == (
        "OK",
        "carol@example.com",
        2,
    )
    assert body["invitation"]["status"] == "link"
    origin, token = accept_link(body["link"])
    assert body["link"] == f"{origin}/invites/accept/{token}"
    assert body["link"] in body["html"] and "data-kaleo-copy" in body["html"]
    assert "link created" in body["html"]
    # The page, read again, never shows the link: it was answered once.
    page = client.get("/manage").get_data(as_text=True)
    assert "link created" in page and token not in page
    assert "Send by email" in page


@LINKS
def test_browser_without_javascript_sees_the_link_in_the_flash(
    app: Flask, client: FlaskClient
) -> None:
    signed_in(client)
    data = {"email_address": "carol@example.com", "send": "0", "csrf_token": csrf_token(client)}
    response = client.post("/invites/invite", data=data, headers=BROWSER)
    assert response.status_code == 303
    with client.session_transaction() as session:
        flashes = session["_flashes"]
    ((_, text),) = flashes
    assert "created (shown once)" in text
    accept_link(text)


def test_links_are_refused_unless_the_site_allows_them(
    app: Flask, client: FlaskClient, outbox: list[t.Any]
) -> None:
    user = signed_in(client)
    refused = create_link(client, "carol@example.com")
    assert_error(refused, code="links_not_allowed")
    with app.app_context():
        assert assert_counters_match_rows(user.id) == (3, 0, 0)
    assert 'name="send"' not in client.get("/").get_data(as_text=True)
    assert issubclass(LinksNotAllowed, Exception)


@LINKS
def test_the_form_offers_create_link_only_when_asked(app: Flask, client: FlaskClient) -> None:
    """Sharing is create_link_form's: invite_form sends email, unless a site asks for
    its "Create link" button (``link_button=True``) for links to one address."""
    user = signed_in(client)
    assert 'name="send"' not in client.get("/").get_data(as_text=True)
    template = '{% from "kaleo/macros.html" import invite_form %}{{ invite_form(user, **kw) }}'
    create = '<button type="submit" name="send" value="0" class="kaleo-button kaleo-secondary'
    with app.test_request_context():
        member = app.extensions["sqlalchemy"].session.get(User, user.id)
        asked = render_template_string(template, user=member, kw={"link_button": True})
        default = render_template_string(template, user=member, kw={})
    assert create + ' kaleo-create-link">' in asked
    assert 'name="send"' not in default


@LINKS
@pytest.mark.all_backends
def test_mailing_a_link_rotates_it_at_once(
    app: Flask, client: FlaskClient, outbox: list[t.Any]
) -> None:
    """Resending a link never mailed: it is mailed now (no resend interval to wait),
    under a new link; the shared one then explains it was replaced."""
    signed_in(client)
    old = create_link(client, "carol@example.com").json
    response = post(client, f"/invites/resend/{old['invitation']['id']}")
    assert response.json["status"] == "OK", response.json
    assert response.json["invitation"]["status"] == "sent"
    assert len(outbox) == 1
    _, new_token = accept_link(outbox[0].body)
    assert new_token not in old["link"]
    _, old_token = accept_link(old["link"])
    stale = app.test_client().get(f"/invites/accept/{old_token}")
    assert stale.status_code == 410 and "sent again" in stale.get_data(as_text=True)
    with app.app_context():
        assert invitation_to("carol@example.com").link_only is False


@LINKS
def test_a_link_can_be_revoked(app: Flask, client: FlaskClient) -> None:
    user = signed_in(client)
    body = create_link(client, "carol@example.com").json
    assert post(client, f"/invites/revoke/{body['invitation']['id']}").json["status"] == "OK"
    _, token = accept_link(body["link"])
    assert app.test_client().get(f"/invites/accept/{token}").status_code == 410
    with app.app_context():
        assert assert_counters_match_rows(user.id) == (3, 0, 0)


def test_cli_invite_no_send_prints_the_link(app: Flask, outbox: list[t.Any]) -> None:
    with app.app_context():
        make_user("alice@example.com", 2)
    reconfigure(app, KALEO_SITE_URL="https://example.com")
    result = app.test_cli_runner().invoke(
        args=["kaleo", "invite", "alice@example.com", "carol@example.com", "--no-send"]
    )
    assert result.exit_code == 0, result.output
    assert "no email sent; 1 left" in result.output
    origin, _ = accept_link(result.output)
    assert origin == "https://example.com" and outbox == []


# -- expiry per invitation ------------------------------------------------------------


@pytest.mark.all_backends
def test_expires_in_within_the_bounds(app_ctx: None, kaleo: Kaleo[User]) -> None:
    alice = make_user("alice@example.com", 3)
    invitation = kaleo.invite(alice, "carol@example.com", expires_in=dt.timedelta(days=2))
    assert close_to(invitation_to("carol@example.com").expires_at, utcnow() + 2 * 24 * HOUR)
    assert invitation.id is not None


@pytest.mark.parametrize(
    ("expires_in", "text"),
    [
        (dt.timedelta(minutes=5), "may last from 15 minutes"),
        (dt.timedelta(days=31), "to 30 days"),
        (dt.timedelta(0), "in the future"),
        (-HOUR, "in the future"),
        (NEVER, "Only staff"),
    ],
)
def test_out_of_bounds_is_refused_and_spends_nothing(
    app_ctx: None, expires_in: t.Any, text: str, kaleo: Kaleo[User]
) -> None:
    alice = make_user("alice@example.com", 3)
    with pytest.raises(ExpiryOutOfBounds, match=text):
        kaleo.invite(alice, "carol@example.com", expires_in=expires_in)
    assert assert_counters_match_rows(alice.id) == (3, 0, 0)


@pytest.mark.all_backends
def test_staff_may_exceed_the_bounds_and_choose_never(
    app: Flask, client: FlaskClient, manage_hook: SetHook, kaleo: Kaleo[User]
) -> None:
    manage_hook(lambda user: user.email == "boss@example.com")
    with app.app_context():
        boss = make_user("boss@example.com", 5)
        kaleo.invite(boss, "long@example.com", expires_in=dt.timedelta(days=400))
        kaleo.invite(boss, "short@example.com", expires_in=dt.timedelta(minutes=1))
        kaleo.invite(boss, "never@example.com", expires_in=NEVER)
        assert close_to(invitation_to("long@example.com").expires_at, utcnow() + 400 * 24 * HOUR)
        never = invitation_to("never@example.com")
        assert never.expires_at is None and never.is_pending
        assert kaleo.report(boss).pending == 3
        assert kaleo.purge_expired(dt.timedelta(0)).deleted == 0
        # A pending "never" invitation holds its address: a second one is refused.
        with pytest.raises(Exception, match="already invited"):
            kaleo.invite(boss, "never@example.com")
        url = kaleo.invite(boss, "shared@example.com", expires_in=NEVER, send=False).accept_url
    assert url is not None
    # The NULL expiry is accepted by the single-use UPDATE on every database.
    assert join(app, accept_link(url)[1], "shared@example.com").status_code == 201
    with app.app_context():
        assert invitation_to("shared@example.com").status == "accepted"


@pytest.mark.parametrize(
    "value", ["-1", "0", "0d", "3", "abc", "1e3", "36501d", "nan", "2.5d", "1h1d", "1d 2h", " "]
)
def test_endpoint_refuses_odd_expiry_input(client: FlaskClient, value: str) -> None:
    user = signed_in(client)
    response = post(client, "/invites/invite", email_address="carol@example.com", expires_in=value)
    if value.strip():
        assert_error(response, 400, field="expires_in")
        assert "such as 90m, 36h, 7d or 2w" in response.json["errors"]
    else:  # blank is the default
        assert response.json["status"] == "OK"
    assert user.id is not None


def test_endpoint_expiry_field_and_its_bounds(app: Flask, client: FlaskClient) -> None:
    signed_in(client)
    response = post(client, "/invites/invite", email_address="a@example.com", expires_in="3d")
    assert response.json["status"] == "OK"
    assert close_to(
        dt.datetime.fromisoformat(response.json["invitation"]["expires_at"]), utcnow() + 72 * HOUR
    )
    assert '<time datetime="' in response.json["html"]
    too_long = post(client, "/invites/invite", email_address="b@example.com", expires_in="60d")
    assert_error(too_long, field="expires_in", code="expiry_out_of_bounds")
    assert too_long.json["error_codes"] == {"expires_in": ["expiry_out_of_bounds"]}
    assert_error(
        post(client, "/invites/invite", email_address="b@example.com", expires_in="never"),
        field="expires_in",
    )


def test_sent_list_says_when_each_expires(app: Flask, client: FlaskClient) -> None:
    alice = signed_in(client)
    with app.app_context():
        pending = make_invitation(alice, "p@example.com")
        make_invitation(alice, "x@example.com", "expired")
        never = make_invitation(alice, "n@example.com")
        never.expires_at = None
        db.session.commit()
        make_invitation(alice, "a@example.com", "accepted")
        iso = pending.expires_at.isoformat()
    page = client.get("/").get_data(as_text=True)
    assert f'expires <time datetime="{iso}">' in page
    assert page.count("<time datetime=") == 2  # the accepted one says nothing
    assert "expired <time" in page and "never expires" in page


@pytest.mark.parametrize(
    ("settings", "text"),
    [
        (
            {"KALEO_EXPIRATION_BOUNDS": (dt.timedelta(hours=200), dt.timedelta(days=30))},
            "KALEO_DEFAULT_EXPIRATION must lie within KALEO_EXPIRATION_BOUNDS",
        ),
        (
            {"KALEO_EXPIRATION_BOUNDS": (dt.timedelta(hours=1), dt.timedelta(hours=100))},
            "KALEO_DEFAULT_EXPIRATION must lie within KALEO_EXPIRATION_BOUNDS",
        ),
        (
            {"KALEO_EXPIRATION_BOUNDS": (dt.timedelta(0), dt.timedelta(days=30))},
            "KALEO_EXPIRATION_BOUNDS must be a pair",
        ),
        ({"KALEO_EXPIRATION_BOUNDS": (900, 720)}, "KALEO_EXPIRATION_BOUNDS must be a pair"),
        ({"KALEO_ALLOW_LINKS": "yes"}, "KALEO_ALLOW_LINKS must be True or False"),
    ],
)
def test_bad_bounds_fail_at_start_up(
    database_url: str, settings: dict[str, t.Any], text: str
) -> None:
    from flask_kaleo import ConfigurationError
    from tests.hostapp import create_app

    with pytest.raises(ConfigurationError, match=text):
        create_app(database_url, **settings)


# -- extend ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("longest", "expires_in", "offered", "chosen"),
    [
        (30, -1, ["1d", "3d", "7d", "14d", "30d"], "7d"),  # expired: counted from now
        (30, 7, ["1d", "3d", "7d", "14d"], "7d"),
        (30, 20, ["1d", "3d", "7d"], "7d"),
        (5, 3, ["1d"], "1d"),
        (0.5, -1, [], None),
    ],
)
def test_the_extend_choices_stay_within_the_longest_lifetime(
    app: Flask, longest: float, expires_in: float, offered: list[str], chosen: str | None
) -> None:
    """A member may extend up to the longest lifetime from now: the row offers only
    what the endpoint would accept, 7 days or the longest below it chosen."""
    bounds = (dt.timedelta(minutes=15), dt.timedelta(days=longest))
    reconfigure(app, KALEO_EXPIRATION_BOUNDS=bounds, KALEO_DEFAULT_EXPIRATION=bounds[1])
    with app.test_request_context():
        alice = make_user("alice@example.com", allocation=1)
        expires_at = utcnow() + dt.timedelta(days=expires_in)
        make_invitation(alice, "carol@example.com", expires_at=expires_at)
        page = render_template_string(
            '{% from "kaleo/macros.html" import invites_sent %}'
            "{{ invites_sent(user, actions=True) }}",
            user=alice,
        )
    options = re.findall(r'<option value="(\w+)"( selected)?>', page)
    assert [value for value, _ in options] == offered
    assert [value for value, selected in options if selected] == ([chosen] if chosen else [])
    assert ('class="kaleo-extend"' in page) is bool(offered)
    beyond = [days for days in (1, 3, 7, 14, 30) if f"{days}d" not in offered]
    with app.test_request_context():
        invitation = invitation_to("carol@example.com")
        if beyond:  # the first lifetime not offered is one extend refuses
            with pytest.raises(ExpiryOutOfBounds):
                kaleo_of(app).extend(invitation, by=dt.timedelta(days=beyond[0]))
        if offered:  # and the longest offered, one it takes
            kaleo_of(app).extend(invitation, by=dt.timedelta(days=int(offered[-1][:-1])))


@pytest.mark.all_backends
def test_extend_moves_the_expiry_and_keeps_the_link(app: Flask, client: FlaskClient) -> None:
    alice = signed_in(client)
    with app.app_context():
        invitation = make_invitation(alice, "carol@example.com")
        before = (invitation.id, invitation.token_digest, invitation.expires_at)
    response = post(client, f"/invites/extend/{before[0]}", by="2d")
    assert response.json["status"] == "OK", response.json
    assert 'class="kaleo-extend"' in response.json["html"]
    with app.app_context():
        after = invitation_to("carol@example.com")
        assert after.token_digest == before[1]
        assert after.expires_at == before[2] + 48 * HOUR


@pytest.mark.all_backends
def test_an_expired_invitation_is_extended_back_to_life(app_ctx: None, kaleo: Kaleo[User]) -> None:
    alice = make_user("alice@example.com", 3)
    invitation = make_invitation(alice, "carol@example.com")
    expire(invitation.id, hours_ago=48)
    invitation = invitation_to("carol@example.com")
    assert invitation.display_status == "expired"
    kaleo.extend(invitation, by=dt.timedelta(days=1))
    assert invitation.is_pending and close_to(invitation.expires_at, utcnow() + 24 * HOUR)
    assert kaleo.report(alice).pending == 1


@pytest.mark.all_backends
@pytest.mark.parametrize(
    ("before", "is_expired"), [(dt.timedelta(0), True), (dt.timedelta(microseconds=1), False)]
)
def test_an_invitation_expires_at_the_instant_of_its_expires_at(
    app_ctx: None,
    monkeypatch: pytest.MonkeyPatch,
    before: dt.timedelta,
    is_expired: bool,
    kaleo: Kaleo[User],
) -> None:
    """With the clock held at ``expires_at`` (or a microsecond before), the database's
    comparisons (the report, accepting) and the model's ``is_expired`` agree: expired
    from that instant on."""
    moment = (utcnow() + dt.timedelta(days=1)).replace(microsecond=654321)
    alice = make_user("alice@example.com", 3)
    make_invitation(alice, "carol@example.com", expires_at=moment)
    carol = make_user("carol@example.com")
    for module in (
        flask_kaleo.models.invitation,
        flask_kaleo.core.lifecycle,
        flask_kaleo.core.accepting,
    ):
        monkeypatch.setattr(module, "utcnow", lambda: moment - before)
    invitation = invitation_to("carol@example.com")
    assert invitation.expires_at == moment  # stored to the microsecond
    assert invitation.is_expired is is_expired and invitation.is_pending is not is_expired
    report = kaleo.report(alice)
    assert (report.pending, report.expired) == ((0, 1) if is_expired else (1, 0))
    if is_expired:
        with pytest.raises(InvitationExpired):
            kaleo.accept(invitation, carol)
        assert invitation_to("carol@example.com").status == "sent"
    else:
        kaleo.accept(invitation, carol)
        assert invitation_to("carol@example.com").status == "accepted"


@pytest.mark.all_backends
def test_an_expired_invitation_whose_address_was_invited_again_stays_dead(
    app_ctx: None,
    kaleo: Kaleo[User],
) -> None:
    alice = make_user("alice@example.com", 3)
    old = kaleo.invite(alice, "carol@example.com", send=False)
    expire(old.id)
    kaleo.invite(alice, "carol@example.com", send=False)  # takes the address's slot
    old = db.session.get_one(kaleo.JoinInvitation, old.id)
    with pytest.raises(ExpiryOutOfBounds, match="invited again"):
        kaleo.extend(old, by=dt.timedelta(days=1))
    assert old.is_expired


def test_extend_bounds_for_members_and_staff(
    app_ctx: None, manage_hook: SetHook, kaleo: Kaleo[User]
) -> None:
    alice = make_user("alice@example.com", 3)
    invitation = make_invitation(alice, "carol@example.com")
    with pytest.raises(ExpiryOutOfBounds, match="at most 30 days"):
        kaleo.extend(invitation, by=dt.timedelta(days=30))
    with pytest.raises(ExpiryOutOfBounds, match="Only staff"):
        kaleo.extend(invitation, to=NEVER)
    with pytest.raises(ExpiryOutOfBounds, match="later"):
        kaleo.extend(invitation, to=utcnow() + HOUR)
    manage_hook(lambda user: True)
    with pytest.raises(ExpiryOutOfBounds, match="too far"):  # past the year 9999
        kaleo.extend(invitation, by=dt.timedelta(days=3_000_000))
    kaleo.extend(invitation, to=NEVER)
    assert invitation.expires_at is None
    with pytest.raises(ExpiryOutOfBounds, match="never expires"):
        kaleo.extend(invitation, by=HOUR)


def test_answered_invitations_cannot_be_extended(app_ctx: None, kaleo: Kaleo[User]) -> None:
    alice = make_user("alice@example.com", 3)
    invitation = make_invitation(alice, "carol@example.com", "revoked")
    with pytest.raises(InvitationRevoked):
        kaleo.extend(invitation, by=HOUR)


def test_extend_endpoint_refuses_odd_input_and_others_invitations(
    app: Flask, client: FlaskClient
) -> None:
    alice = signed_in(client)
    with app.app_context():
        mine = make_invitation(alice, "carol@example.com").id
        bob = make_user("bob@example.com", 3)
        theirs = make_invitation(bob, "dave@example.com").id
    for value in ("", "-2d", "x", "0", "2"):
        assert_error(post(client, f"/invites/extend/{mine}", by=value), 400, field="by")
    assert_error(post(client, f"/invites/extend/{theirs}", by="1d"), 404)
    no_csrf = client.post(f"/invites/extend/{mine}", data={"by": "1d"}, headers=AJAX)
    assert_error(no_csrf, 400)
    assert_error(post(client, f"/invites/extend/{mine}", by="45d"), field="expires_in")


def test_cli_extend(app: Flask) -> None:
    with app.app_context():
        alice = make_user("alice@example.com", 3)
        invitation_id = make_invitation(alice, "carol@example.com").id
        expire(invitation_id)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["kaleo", "extend", str(invitation_id), "--by", "3d"])
    assert result.exit_code == 0, result.output
    assert "now expires" in result.output
    with app.app_context():
        assert invitation_to("carol@example.com").is_pending
    for args, code in (
        ([str(invitation_id)], 2),
        ([str(invitation_id), "--by", "1d", "--never"], 2),
        ([str(invitation_id), "--by", "-1d"], 2),
        ([str(invitation_id), "--by", "0"], 2),
        ([str(invitation_id), "--by", "3"], 2),  # a duration has a unit
        ([str(invitation_id), "--by", "nan"], 2),
        (["999999", "--by", "1d"], 2),
        (["abc", "--by", "1d"], 2),
        ([str(invitation_id), "--never"], 1),  # alice is no staff
    ):
        result = runner.invoke(args=["kaleo", "extend", *args])
        assert result.exit_code == code, (args, result.output)


@pytest.mark.backends("postgresql", "mariadb")
@pytest.mark.settings(SQLALCHEMY_ENGINE_OPTIONS=POOL)
def test_links_and_invitations_racing_never_overspend(app: Flask, kaleo: Kaleo[User]) -> None:
    """Ten links and invitations at once from a member with three left: exactly three
    are spent, whichever kind, and the counters match the rows."""
    with app.app_context():
        alice = make_user("alice@example.com", 3)

    def work(i: int, barrier: threading.Barrier) -> int:
        with app.app_context():
            inviter = db.session.get_one(type(alice), alice.id)
            barrier.wait()
            return kaleo.invite(inviter, f"friend{i}@example.com", send=i % 2 == 0).id

    results = race(10, work)
    assert len([r for r in results if isinstance(r, int)]) == 3, results
    assert all(isinstance(r, (int, NotEnoughInvitations)) for r in results), results
    with app.app_context():
        assert assert_counters_match_rows(alice.id) == (3, 3, 0)


@pytest.mark.settings(KALEO_DELIVERY="queue")
def test_a_link_is_never_queued(app_ctx: None, kaleo: Kaleo[User]) -> None:
    queued: list[int] = []
    kaleo.delivery_queue(queued.append)
    alice = make_user("alice@example.com", 3)
    invitation = kaleo.invite(alice, "carol@example.com", send=False)
    assert invitation.accept_url is not None and queued == []
    kaleo.invite(alice, "dave@example.com")
    assert len(queued) == 1


def test_an_ordinary_invitation_has_no_link_key(client: FlaskClient) -> None:
    signed_in(client)
    body = post_invite(client, "carol@example.com").json
    assert body["status"] == "OK" and "link" not in body
    assert "data-kaleo-copy" not in body["html"]


def test_staff_extend_to_never_through_the_endpoint(
    app: Flask, client: FlaskClient, manage_hook: SetHook
) -> None:
    manage_hook(lambda user: True)
    alice = signed_in(client)
    with app.app_context():
        invitation_id = make_invitation(alice, "carol@example.com").id
    response = post(client, f"/invites/extend/{invitation_id}", by="never")
    assert response.json["invitation"]["expires_at"] is None
    assert "never expires" in response.json["html"]
    assert 'class="kaleo-extend"' not in response.json["html"]  # nothing left to extend
