"""Shareable links: the allowance they reserve and give back, joining through them
(the join page, the session, ``kaleo.accept``), the domain restriction, expiry, the
endpoints, the macros and the CLI."""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest
import sqlalchemy as sa
from click.testing import Result
from flask import Flask
from flask import render_template_string
from flask.testing import FlaskClient

from flask_kaleo import Kaleo
from flask_kaleo import signals
from flask_kaleo.core.accepting import check_signup_address
from flask_kaleo.exceptions import InvalidLinkOption
from flask_kaleo.exceptions import InvitationAlreadyUsed
from flask_kaleo.exceptions import InvitationExpired
from flask_kaleo.exceptions import InvitationForAnotherAddress
from flask_kaleo.exceptions import InvitationRevoked
from flask_kaleo.exceptions import InvitingNotAllowed
from flask_kaleo.exceptions import NotEnoughInvitations
from flask_kaleo.models import utcnow
from tests.helpers import AJAX
from tests.helpers import BROWSER
from tests.helpers import SetHook
from tests.helpers import assert_counters_match_rows
from tests.helpers import assert_error
from tests.helpers import csrf_token
from tests.helpers import expire_link
from tests.helpers import fresh
from tests.helpers import join_as
from tests.helpers import make_user
from tests.helpers import new_link
from tests.helpers import path_of
from tests.helpers import post_link
from tests.helpers import received
from tests.helpers import reconfigure
from tests.helpers import reload_link
from tests.helpers import signed_in
from tests.helpers import speaking
from tests.helpers import stat_row
from tests.helpers import with_babel
from tests.hostapp import User
from tests.hostapp import db

links_on = pytest.mark.settings(KALEO_ALLOW_LINKS=True)


# -- the allowance: the worked example of docs/links.md --------------------------------


@pytest.mark.all_backends
def test_the_arithmetic_of_the_worked_example(app: Flask, kaleo: Kaleo[User]) -> None:
    """allocated 10, sent 2; a 5-use link leaves 3; two join (accepted +2); revoking
    returns the 3 unused: 6 remain."""
    with app.test_request_context():
        alice = make_user("alice@example.com", 10)
        kaleo.invite(alice, "one@example.com")
        kaleo.invite(alice, "two@example.com")
        link = kaleo.create_link(alice, 5)
        assert link.inviter_remaining == 3 and kaleo.invitations_remaining(alice) == 3
        assert stat_row(alice.id) == (10, 7, 0)
        for name in ("carol", "dave"):
            user = User(email=f"{name}@example.com")
            db.session.add(user)
            assert kaleo.accept(link, user) is link
            db.session.commit()
        assert (link.uses, link.max_uses) == (2, 5)
        assert stat_row(alice.id) == (10, 7, 2)
        assert_counters_match_rows(alice.id)
        kaleo.revoke(link)
        assert link.given_back == 3 and link.display_status == "revoked"
        assert kaleo.invitations_remaining(alice) == 6
        assert stat_row(alice.id) == (10, 4, 2)
        assert_counters_match_rows(alice.id)
        joiners = kaleo.sent_links(alice)[0].joiners
        assert [j.email for j in joiners] == ["carol@example.com", "dave@example.com"]


@pytest.mark.all_backends
def test_a_link_beyond_the_allowance_spends_nothing(app: Flask, kaleo: Kaleo[User]) -> None:
    with app.test_request_context():
        alice = make_user("alice@example.com", 4)
        with pytest.raises(NotEnoughInvitations, match="4 invitations left"):
            kaleo.create_link(alice, 5)
        assert stat_row(alice.id) == (4, 0, 0)
        assert db.session.scalar(sa.select(sa.func.count(kaleo.InvitationLink.id))) == 0
        kaleo.create_link(alice, 4)  # exactly what is left
        assert stat_row(alice.id) == (4, 4, 0)
        boss = make_user("boss@example.com", -1)
        assert kaleo.create_link(boss, 1000).inviter_remaining == -1
        assert stat_row(boss.id) == (-1, 1000, 0)


@pytest.mark.settings(KALEO_DEFAULT_INVITE_ALLOCATION=3)
def test_a_member_without_a_stat_row_gets_the_default(app: Flask, kaleo: Kaleo[User]) -> None:
    with app.test_request_context():
        alice = make_user("alice@example.com")
        assert kaleo.create_link(alice, 3).inviter_remaining == 0
        assert stat_row(alice.id) == (3, 3, 0)


@links_on
def test_a_member_the_invite_permission_refuses_creates_no_link(
    app: Flask, client: FlaskClient, invite_hook: SetHook, kaleo: Kaleo[User]
) -> None:
    """The invite permission guards links as it guards invitations: through the
    Python API, the endpoint and the CLI, nothing is reserved and no link made."""
    invite_hook(lambda user: not str(user.email).startswith("muted@"))
    muted = signed_in(client, "muted@example.com", allocation=10)
    with app.test_request_context():
        with pytest.raises(InvitingNotAllowed, match="not allowed to send invitations"):
            kaleo.create_link(db.session.get_one(User, muted.id), 2)
    response = post_link(client, uses="2")
    assert_error(response, 200, code="not_allowed")
    reconfigure(app, KALEO_SITE_URL="https://example.org")
    result = app.test_cli_runner().invoke(
        args=["kaleo", "create-link", "muted@example.com", "--uses", "2"]
    )
    assert result.exit_code == 1 and "not allowed to send invitations" in result.output
    with app.app_context():
        assert stat_row(muted.id) == (10, 0, 0)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(kaleo.InvitationLink)) == 0
        other = make_user("alice@example.com", allocation=10)
    with app.test_request_context():
        assert kaleo.create_link(db.session.get_one(User, other.id), 2).max_uses == 2


@pytest.mark.parametrize("uses", [0, -1, 1_000_001, True, "3", 2.0, None])
def test_uses_must_be_a_positive_whole_number(app: Flask, uses: t.Any, kaleo: Kaleo[User]) -> None:
    with app.test_request_context():
        alice = make_user("alice@example.com", 10)
        with pytest.raises(InvalidLinkOption, match="whole number from 1") as caught:
            kaleo.create_link(alice, uses)
        assert caught.value.field == "uses"
        assert stat_row(alice.id) == (10, 0, 0)


@pytest.mark.parametrize("domain", ["not a domain", "a@b.com", "-bad-.com", "x" * 300, "com"])
def test_a_bad_domain_is_refused(app: Flask, domain: str, kaleo: Kaleo[User]) -> None:
    with app.test_request_context():
        alice = make_user("alice@example.com", 10)
        with pytest.raises(InvalidLinkOption, match="not a valid domain") as caught:
            kaleo.create_link(alice, 2, domain=domain)
        assert caught.value.field == "domain"
        assert stat_row(alice.id) == (10, 0, 0)


def test_the_domain_is_stored_as_addresses_store_it(app: Flask, kaleo: Kaleo[User]) -> None:
    with app.test_request_context():
        alice = make_user("alice@example.com", 10)
        assert kaleo.create_link(alice, 1, domain=" @BÜCHER.de ").domain == "xn--bcher-kva.de"
        assert kaleo.create_link(alice, 1, domain="").domain is None


def test_a_link_names_its_inviter_as_invitations_do(app: Flask, kaleo: Kaleo[User]) -> None:
    """The signup page of a link says who invited the visitor by the app's display
    name, like an email invitation does."""

    @kaleo.inviter_name
    def display_name(user: User) -> str | None:
        return "Alice Martin" if user.email == "alice@example.com" else None

    with app.test_request_context():
        alice = make_user("alice@example.com", 10)
        bob = make_user("bob@example.com", 10)
        assert kaleo.create_link(alice, 1).inviter_label == "Alice Martin"
        assert kaleo.create_link(bob, 1).inviter_label == "bob@example.com"


# -- joining: the page, the session, the signup ------------------------------------


@pytest.mark.all_backends
def test_the_page_never_takes_a_use_and_the_signup_does(app: Flask, client: FlaskClient) -> None:
    with app.test_request_context():
        alice = make_user("alice@example.com", 5)
        link_id, path = new_link(alice, 2)
    for _ in range(3):  # previews and scanners: nothing is taken
        response = client.get(path)
        assert response.status_code == 303 and response.location == "/"
        assert response.headers["Referrer-Policy"] == "no-referrer"
    with app.app_context():
        assert reload_link(link_id).uses == 0
    with received(signals.link_joined) as joined:
        assert join_as(client, "carol@example.com").status_code == 201
    assert [(j["link"], j["inviter"]) for j in joined] == [(link_id, alice.id)]
    # the session forgot it: a second signup in this browser needs the link again
    assert join_as(client, "carol2@example.com").status_code == 201
    with app.app_context():
        assert reload_link(link_id).uses == 1
        assert stat_row(alice.id) == (5, 2, 1)
        assert_counters_match_rows(alice.id)
    other = app.test_client()
    other.get(path)
    assert join_as(other, "dave@example.com").status_code == 201
    last = app.test_client()
    response = last.get(path)  # used up: says so, remembers nothing
    assert response.status_code == 410
    assert "used by as many people as it allows" in response.get_data(as_text=True)
    assert "This link has been used up" in response.get_data(as_text=True)
    with app.app_context():
        link = reload_link(link_id)
        assert (link.uses, link.display_status) == (2, "used")
        assert_counters_match_rows(alice.id)


def test_pending_invitation_and_accept_take_a_link(
    app: Flask, client: FlaskClient, kaleo: Kaleo[User]
) -> None:
    with app.test_request_context():
        alice = make_user("alice@example.com", 5)
        link_id, path = new_link(alice, 1)
    client.get(path)
    with client.session_transaction() as session:
        remembered = dict(session)
    with app.test_request_context():
        from flask import session as flask_session

        flask_session.update(remembered)
        pending = kaleo.pending_invitation()
        assert pending is not None and pending.id == link_id
        assert kaleo.signup_email() is None  # a link has no address to prefill
        assert (
            check_signup_address(kaleo.pending_invitation(), " x@anywhere.org ") == "x@anywhere.org"
        )
        carol = User(email="carol@example.com")
        db.session.add(carol)
        kaleo.accept(pending, carol)
        db.session.commit()
        assert kaleo.pending_invitation() is None  # forgotten once used


def test_an_unknown_or_overlong_token_is_not_found(client: FlaskClient) -> None:
    assert client.get("/invites/join/nothing-here").status_code == 404
    assert client.get("/invites/join/" + "a" * 500).status_code == 404


@pytest.mark.settings(KALEO_INVITE_ONLY=True)
def test_a_link_opens_an_invite_only_signup(
    app: Flask, client: FlaskClient, kaleo: Kaleo[User]
) -> None:
    def beta() -> str:
        return "welcome"

    app.add_url_rule("/beta", "beta", kaleo.invitation_required(beta))
    assert client.get("/beta").status_code == 403
    with app.test_request_context():
        alice = make_user("alice@example.com", 5)
        _, path = new_link(alice, 1)
    client.get(path)
    assert client.get("/beta").get_data(as_text=True) == "welcome"


@pytest.mark.all_backends
def test_the_domain_is_checked_at_signup(
    app: Flask, client: FlaskClient, kaleo: Kaleo[User]
) -> None:
    with app.test_request_context():
        alice = make_user("alice@example.com", 5)
        link_id, path = new_link(alice, 3, domain="bücher.de")
    client.get(path)
    refused = join_as(client, "mallory@example.com")
    assert refused.status_code == 410
    assert "addresses at xn--bcher-kva.de" in refused.get_data(as_text=True)
    with app.app_context():
        assert reload_link(link_id).uses == 0  # nothing taken, no account
        assert db.session.scalar(sa.select(User).where(User.email.like("mallory%"))) is None
    assert join_as(client, "Carol@BÜCHER.de").status_code == 201
    client.get(path)
    assert join_as(client, "dave@sub.xn--bcher-kva.de").status_code == 410  # not a subdomain
    with app.app_context():
        assert reload_link(link_id).uses == 1
        with pytest.raises(InvitationForAnotherAddress):
            kaleo.accept(reload_link(link_id), make_user("eve@example.com"))


@pytest.mark.parametrize(
    "disguised",
    [
        "x@evil.org,y@example.com",
        "x@evil.org@example.com",
        '"x@evil.org"@example.com',
        "x@evil.org (c)@example.com",
        "x@evil.org\x00@example.com",
    ],
)
def test_the_domain_takes_one_valid_address_only(
    app: Flask, client: FlaskClient, disguised: str
) -> None:
    """Text that merely ends with ``@example.com`` is not an address at example.com."""
    with app.test_request_context():
        link_id, path = new_link(make_user("alice@example.com", 5), 3, domain="example.com")
    client.get(path)
    assert join_as(client, disguised).status_code == 410
    with app.app_context():
        assert reload_link(link_id).uses == 0


@pytest.mark.all_backends
def test_a_use_past_max_uses_is_a_clean_refusal(app: Flask, kaleo: Kaleo[User]) -> None:
    """Someone else took the last use after this link was read (it still says 0 of 1
    here): the conditional UPDATE refuses the use, ``InvitationAlreadyUsed``, before
    the database's check would have to (an IntegrityError, a 500)."""
    with app.test_request_context():
        alice = make_user("alice@example.com", 3)
        carol, dave = make_user("carol@example.com"), make_user("dave@example.com")
        link_id, _ = new_link(alice, 1)
        link = reload_link(link_id)
        assert link.is_pending and link.uses == 0
        other = db.engine.connect()  # another request's signup, committed meanwhile
        with other.begin():
            model = kaleo.InvitationLink
            other.execute(sa.update(model).where(model.id == link_id).values(uses=1))
            other.execute(
                sa.insert(kaleo.LinkUse).values(
                    link_id=link_id, user_id=carol.id, email=carol.email, joined_at=utcnow()
                )
            )
        other.close()
        with pytest.raises(InvitationAlreadyUsed, match="as many people as it allows") as caught:
            kaleo.accept(link, dave)
        assert caught.value.code == "invitation_used"
        db.session.rollback()
        assert reload_link(link_id).uses == 1
        uses = db.session.scalars(sa.select(kaleo.LinkUse.email)).all()
        assert uses == ["carol@example.com"]


def test_one_account_joins_through_a_link_once(app: Flask, kaleo: Kaleo[User]) -> None:
    with app.test_request_context():
        alice = make_user("alice@example.com", 5)
        link = kaleo.create_link(alice, 3)
        carol = make_user("carol@example.com")
        kaleo.accept(link, carol)
        db.session.commit()
        with pytest.raises(sa.exc.IntegrityError):
            kaleo.accept(link, carol)
        db.session.rollback()
        assert reload_link(link.id).uses == 1


# -- revoking and expiry ---------------------------------------------------------------


@pytest.mark.all_backends
def test_a_revoked_link_refuses_and_gives_back_once(
    app: Flask, client: FlaskClient, kaleo: Kaleo[User]
) -> None:
    with app.test_request_context():
        alice = make_user("alice@example.com", 5)
        link = kaleo.create_link(alice, 4)
        path = path_of(link.url)
        with received(signals.link_revoked) as revoked:
            kaleo.revoke(link)
        assert [r["link"] for r in revoked] == [link.id]
        assert stat_row(alice.id) == (5, 0, 0)
        with pytest.raises(InvitationRevoked):
            kaleo.revoke(link)
        assert stat_row(alice.id) == (5, 0, 0)
        with pytest.raises(InvitationRevoked):
            kaleo.accept(link, make_user("carol@example.com"))
    response = client.get(path)
    assert response.status_code == 410 and "withdrawn" in response.get_data(as_text=True)


@pytest.mark.all_backends
def test_expiry_gives_the_remainder_back_once(
    app: Flask, client: FlaskClient, kaleo: Kaleo[User]
) -> None:
    runner = app.test_cli_runner()
    with app.test_request_context():
        alice = make_user("alice@example.com", 5)
        alice_id = alice.id
        link = kaleo.create_link(alice, 3)
        kaleo.accept(link, make_user("carol@example.com"))
        db.session.commit()
        other_id = kaleo.create_link(alice, 1).id  # still live: untouched
        link_id, path = link.id, path_of(link.url)
        expire_link(link_id)
    assert client.get(path).status_code == 410
    result = runner.invoke(args=["kaleo", "purge-expired"])
    assert result.exit_code == 0, result.output
    assert "Gave back 2 invitations unused by expired links." in result.output
    again = runner.invoke(args=["kaleo", "purge-expired"])
    assert again.exit_code == 0 and "Gave back" not in again.output  # each link once
    with app.test_request_context():
        assert reload_link(link_id).given_back == 2
        assert reload_link(other_id).given_back is None
        assert stat_row(alice_id) == (5, 2, 1)
        assert_counters_match_rows(alice_id)
        with pytest.raises(InvitationExpired, match="already given back"):
            kaleo.revoke(reload_link(link_id))
        with pytest.raises(InvitationExpired):
            kaleo.accept(reload_link(link_id), make_user("dave@example.com"))


def test_creating_a_link_settles_the_creators_expired_links_first(
    app: Flask, kaleo: Kaleo[User]
) -> None:
    with app.test_request_context():
        alice = make_user("alice@example.com", 5)
        old = kaleo.create_link(alice, 5)
        expire_link(old.id)
        assert kaleo.create_link(alice, 5).inviter_remaining == 0  # paid by the old one
        assert reload_link(old.id).given_back == 5
        assert_counters_match_rows(alice.id)


def test_an_expired_but_unsettled_link_can_be_revoked(app: Flask, kaleo: Kaleo[User]) -> None:
    with app.test_request_context():
        alice = make_user("alice@example.com", 5)
        link = kaleo.create_link(alice, 2)
        expire_link(link.id)
        kaleo.revoke(reload_link(link.id))
        assert stat_row(alice.id) == (5, 0, 0)


def test_expires_in_is_bounded_like_invitations(app: Flask, kaleo: Kaleo[User]) -> None:
    with app.test_request_context():
        alice = make_user("alice@example.com", 5)
        link = kaleo.create_link(alice, 1, expires_in=dt.timedelta(days=2))
        assert link.expires_at is not None
        assert dt.timedelta(days=2) - (link.expires_at - link.created_at) < dt.timedelta(seconds=1)
        with pytest.raises(Exception, match="may last from"):
            kaleo.create_link(alice, 1, expires_in=dt.timedelta(days=400))
        assert stat_row(alice.id) == (5, 1, 0)


# -- the endpoints ---------------------------------------------------------------------


@links_on
@pytest.mark.all_backends
def test_the_endpoint_answers_the_url_once(
    app: Flask, client: FlaskClient, kaleo: Kaleo[User]
) -> None:
    alice = signed_in(client, allocation=10)
    response = post_link(client, uses="5", expires_in="3d", domain="example.com")
    body = response.json
    assert body["status"] == "OK", body
    assert body["invitations_remaining"] == 5
    assert body["url"] == body["link"]["url"]
    assert body["message"] == "Link created for 5 people."  # the page shows the URL
    assert body["invitations_badge"] == (
        '<span class="invitations_remaining">5</span> invitations left'
    )
    assert body["link"]["max_uses"] == 5 and body["link"]["uses"] == 0
    assert body["link"]["domain"] == "example.com"
    assert "0 of 5 used" in body["html"]
    with app.app_context():
        link = kaleo.sent_links(db.session.get(User, alice.id))[0]
        assert body["url"] not in repr(link.__dict__)  # only the digest is stored
        assert link.expires_at is not None
        assert link.expires_at - link.created_at == dt.timedelta(days=3)
    joined = app.test_client()
    joined.get(path_of(body["url"]))
    assert join_as(joined, "carol@example.com").status_code == 201
    page = render_links(app, alice, actions=True)
    assert "1 of 5 used" in page and "carol@example.com" in page and "Revoke link" in page


@links_on
@pytest.mark.all_backends
@pytest.mark.settings(TESTING=False, KALEO_SITE_URL="https://example.org")
def test_an_unlimited_members_counters_pass_32_bits(
    app: Flask, client: FlaskClient, kaleo: Kaleo[User]
) -> None:
    """An unlimited member whose links have reserved 2,147 million uses (each link takes
    up to a million) creates one more: the counters are 64-bit, nothing overflows."""
    alice = signed_in(client, allocation=-1)
    near = 2**31 - 1_000
    stat = kaleo.InvitationStat
    with app.app_context():
        db.session.execute(
            sa.update(stat)
            .where(stat.user_id == alice.id)
            .values(invites_sent=near, invites_accepted=near)
        )
        db.session.commit()
    response = post_link(client, uses="1000000")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["status"] == "OK" and response.json["invitations_remaining"] == -1
    joined = app.test_client()
    joined.get(path_of(response.json["url"]))
    assert join_as(joined, "carol@example.com").status_code == 201
    with app.app_context():
        assert stat_row(alice.id) == (-1, near + 1_000_000, near + 1)
        bob = make_user("bob@example.com", allocation=2**31 + 5)
        assert kaleo.grant(1_000_000, everyone=True, user=bob) == 1
        assert stat_row(bob.id) == (2**31 + 1_000_005, 0, 0)


@links_on
@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        ({"uses": "0"}, "uses", "invalid_link_option"),
        ({"uses": "abc"}, "uses", "invalid_link_option"),
        ({"uses": "-2"}, "uses", "invalid_link_option"),
        ({}, "uses", "invalid_link_option"),
        ({"uses": "99999999999"}, "uses", "invalid_link_option"),
        ({"uses": "11"}, "__all__", "no_invitations_left"),
        ({"uses": "2", "domain": "nope"}, "domain", "invalid_link_option"),
        ({"uses": "2", "expires_in": "0d"}, "expires_in", "bad_request"),
        ({"uses": "2", "expires_in": "3"}, "expires_in", "bad_request"),
        ({"uses": "2", "expires_in": "nan"}, "expires_in", "bad_request"),
        ({"uses": "2", "expires_in": "400d"}, "expires_in", "expiry_out_of_bounds"),
    ],
)
def test_bad_input_gets_the_error_shape(
    app: Flask, client: FlaskClient, data: dict[str, str], field: str, code: str
) -> None:
    alice = signed_in(client, allocation=10)
    status = 400 if code == "bad_request" else 200  # unreadable, as on the invite form
    assert_error(post_link(client, data), status, field=field, code=code)
    with app.app_context():
        assert stat_row(alice.id) == (10, 0, 0)


@links_on
def test_the_endpoint_takes_json(app: Flask, client: FlaskClient) -> None:
    signed_in(client, allocation=10)
    headers = {"X-CSRFToken": csrf_token(client), "Accept": "application/json"}
    body = client.post("/invites/links", json={"uses": 3, "domain": "example.com"}, headers=headers)
    assert body.json["status"] == "OK" and body.json["link"]["max_uses"] == 3
    refused = client.post("/invites/links", json={"uses": 2.5}, headers=headers)
    assert_error(refused, 400, code="invalid_json")


@links_on
@pytest.mark.settings(KALEO_RATE_LIMITS={"member": 1})
def test_links_send_no_mail_so_the_daily_limit_does_not_count_them(
    app: Flask, client: FlaskClient, outbox: list[t.Any], kaleo: Kaleo[User]
) -> None:
    alice = signed_in(client, allocation=10)
    assert post_link(client, uses="2").json["status"] == "OK"
    assert post_link(client, uses="2").json["status"] == "OK"
    assert outbox == []
    with app.test_request_context():
        kaleo.invite(db.session.get_one(User, alice.id), "friend@example.com")  # the 1 email
        assert stat_row(alice.id) == (10, 5, 0)


@links_on
def test_the_answers_speak_the_visitors_language(app: Flask, client: FlaskClient) -> None:
    with_babel(app)
    alice = signed_in(client, allocation=3)
    headers = speaking("fr")
    refused = post_link(client, headers=headers, uses="5")
    # The French text is what is tested: the refusal in the visitor's language.
    french = "Il vous reste 3 invitations : pas assez pour un lien pour 5"
    assert_error(refused, 200, text=french, code="no_invitations_left")
    answer = post_link(client, headers=headers, uses="2")
    assert answer.json["status"] == "OK"
    link_id = answer.json["link"]["id"]
    form = {"csrf_token": csrf_token(client)}
    withdrawn = client.post(f"/invites/links/{link_id}/revoke", data=form, headers=headers)
    assert withdrawn.json["message"] == "Lien retiré ; 2 invitations non utilisées rendues."
    with app.test_request_context(headers=headers):
        page = render_template_string(LINKS_PAGE, user=db.session.get(User, alice.id), actions=True)
    assert "0 sur 2 utilisés" in page and "retirée" in page  # the list, in French
    assert (
        "Créer un lien à partager" in page and "Valable pendant (par exemple 36h, 7d ou 2w)" in page
    )


def test_links_are_off_by_default(app: Flask, client: FlaskClient) -> None:
    signed_in(client, allocation=10)
    assert_error(post_link(client, uses="2"), 200, code="links_not_allowed")
    assert render_links(app, None).strip() == ""


@links_on
def test_signing_in_and_csrf_are_required(app: Flask, client: FlaskClient) -> None:
    assert_error(post_link(client, uses="2"), 401)
    signed_in(client, allocation=10)
    assert_error(client.post("/invites/links", data={"uses": "2"}, headers=AJAX), 400)


@links_on
def test_without_javascript_the_flash_is_short_and_the_url_kept(
    app: Flask, client: FlaskClient
) -> None:
    """The URL is not flashed (the new-link panel shows it, with a Copy button): the
    session keeps it for that panel."""
    signed_in(client, allocation=10)
    response = post_link(client, headers={**BROWSER, "Referer": "http://localhost/"}, uses="2")
    assert response.status_code == 303
    with client.session_transaction() as session:
        ((category, message),) = session["_flashes"]
        kept = session["kaleo.new_link"]
    assert (category, message) == ("success", "Link created for 2 people.")
    assert kept["url"].startswith("http://localhost/invites/join/")


@links_on
def test_revoke_endpoint_only_for_the_creator(app: Flask, client: FlaskClient) -> None:
    with app.test_request_context():
        bob = make_user("bob@example.com", 5)
        bobs, _ = new_link(bob, 2)
    alice = signed_in(client, allocation=10)
    link_id = post_link(client, uses="3").json["link"]["id"]
    token = csrf_token(client)
    for target in (bobs, 999999, "x"):
        response = client.post(
            f"/invites/links/{target}/revoke", data={"csrf_token": token}, headers=AJAX
        )
        assert_error(response, 404, code="no_such_link")
    response = client.post(
        f"/invites/links/{link_id}/revoke", data={"csrf_token": token}, headers=AJAX
    )
    assert response.json["status"] == "OK", response.json
    assert response.json["invitations_remaining"] == 10
    assert "3 unused invitations given back" in response.json["message"]
    again = client.post(
        f"/invites/links/{link_id}/revoke", data={"csrf_token": token}, headers=AJAX
    )
    assert_error(again, 200, code="invitation_revoked")
    with app.app_context():
        assert stat_row(alice.id) == (10, 0, 0) and stat_row(bob.id) == (5, 2, 0)


# -- the macros ------------------------------------------------------------------------

LINKS_PAGE = """{% from "kaleo/links.html" import create_link_form, links_sent %}
{{ create_link_form(user) }}{{ links_sent(user, actions=actions) }}"""


def render_links(app: Flask, user: User | None, actions: bool = False) -> str:
    with app.test_request_context():
        target = None if user is None else db.session.get(User, user.id)
        return render_template_string(LINKS_PAGE, user=target, actions=actions)


@links_on
def test_the_macros_show_the_form_and_each_links_uses(app: Flask, kaleo: Kaleo[User]) -> None:
    with app.test_request_context():
        alice = make_user("alice@example.com", 6)
        live_id, _ = new_link(alice, 5, domain="example.com")
        kaleo.accept(reload_link(live_id), make_user("carol@example.com"))
        db.session.commit()
        revoked, _ = new_link(alice, 1)
        kaleo.revoke(reload_link(revoked))
    page = render_links(app, alice)
    assert 'action="/invites/links"' in page and 'name="uses"' in page
    assert "1 of 5 used" in page and "only <bdi>@example.com</bdi>" in page
    assert '<meter min="0" max="5" value="1" aria-hidden="true">' in page
    assert "carol@example.com" in page and "0 of 1 used" in page
    assert "<time datetime=" in page and "Revoke link" not in page
    with_actions = render_links(app, alice, actions=True)
    assert with_actions.count("kaleo-revoke-link") == 1  # the revoked one has none
    with app.test_request_context():
        kaleo.create_link(db.session.get_one(User, alice.id), 1)  # nothing left now
    assert 'name="uses"' not in render_links(app, alice)


@links_on
def test_a_used_up_link_offers_no_revoke(app: Flask, kaleo: Kaleo[User]) -> None:
    """Nobody can join through it any more and it has nothing to give back."""
    with app.test_request_context():
        alice = make_user("alice@example.com", 6)
        used_up, _ = new_link(alice, 1)
        kaleo.accept(reload_link(used_up), make_user("carol@example.com"))
        db.session.commit()
        new_link(alice, 2)
    page = render_links(app, alice, actions=True)
    assert "1 of 1 used" in page and "0 of 2 used" in page
    assert page.count("kaleo-revoke-link") == 1  # the live one only


@links_on
def test_a_joiners_address_is_escaped(app: Flask, kaleo: Kaleo[User]) -> None:
    """Addresses may hold ``&``, ``'`` and, quoted, ``<`` and ``"``: the list of who
    joined shows them as text."""
    joiners = ["a&b@example.com", "o'neil@example.com", '"<b>x</b>"@example.com']
    with app.test_request_context():
        alice = make_user("alice@example.com", 6)
        link_id, _ = new_link(alice, 5)
        for address in joiners:
            kaleo.accept(reload_link(link_id), make_user(address))
            db.session.commit()
        fresh(alice)
    page = render_links(app, alice, actions=True)
    assert "3 of 5 used" in page
    for shown in ("a&amp;b@", "o&#39;neil@", "&#34;&lt;b&gt;x&lt;/b&gt;&#34;@"):
        assert f"<li><bdi>{shown}example.com</bdi></li>" in page, page
    assert "<b>x</b>" not in page and "a&b@" not in page and "o'neil@" not in page


# -- the CLI ---------------------------------------------------------------------------


@pytest.fixture
def cli(app: Flask) -> t.Callable[..., Result]:
    runner = app.test_cli_runner()

    def invoke(*args: str) -> Result:
        return runner.invoke(args=["kaleo", *args])

    return invoke


@pytest.mark.all_backends
@pytest.mark.settings(KALEO_SITE_URL="https://example.org")
def test_cli_creates_and_revokes_links(
    app: Flask, cli: t.Callable[..., Result], kaleo: Kaleo[User]
) -> None:
    with app.app_context():
        alice = make_user("alice@example.com", 10)
    result = cli(
        "create-link",
        "alice@example.com",
        "--uses",
        "4",
        "--expires-in",
        "2d",
        "--domain",
        "example.com",
    )
    assert result.exit_code == 0, result.output
    url = result.stdout.strip()
    assert url.startswith("https://example.org/invites/join/")
    with app.app_context():
        (link,) = kaleo.sent_links(db.session.get(User, alice.id))
        assert (link.max_uses, link.domain) == (4, "example.com")
        assert stat_row(alice.id) == (10, 4, 0)
    result = cli("revoke-link", str(link.id))
    assert result.exit_code == 0, result.output
    assert "gave back 4 invitations" in result.output
    assert cli("revoke-link", str(link.id)).exit_code == 1  # already withdrawn
    with app.app_context():
        assert stat_row(alice.id) == (10, 0, 0)


@pytest.mark.parametrize(
    "args",
    [
        ("create-link", "alice@example.com"),
        ("create-link", "alice@example.com", "--uses", "0"),
        ("create-link", "alice@example.com", "--uses", "1000001"),
        ("create-link", "alice@example.com", "--uses", "x"),
        ("create-link", "alice@example.com", "--uses", "2", "--expires-in", "0d"),
        ("create-link", "alice@example.com", "--uses", "2", "--expires-in", "2"),
        ("create-link", "alice@example.com", "--uses", "2", "--expires-in", "nan"),
        ("create-link", "nobody@example.com", "--uses", "2"),
        ("revoke-link", "0"),
        ("revoke-link", "12345"),
    ],
)
def test_cli_usage_errors_exit_2(
    app: Flask, cli: t.Callable[..., Result], args: tuple[str, ...]
) -> None:
    with app.app_context():
        make_user("alice@example.com", 10)
    result = cli(*args)
    assert result.exit_code == 2, result.output
    assert "Usage:" in result.output


def test_cli_refusals_exit_1(app: Flask, cli: t.Callable[..., Result]) -> None:
    with app.app_context():
        alice_id = make_user("alice@example.com", 1).id
    result = cli("create-link", "alice@example.com", "--uses", "1")
    assert result.exit_code == 1 and "set KALEO_SITE_URL" in result.output
    with app.app_context():
        assert stat_row(alice_id) == (1, 0, 0)  # no link to give, nothing spent
    reconfigure(app, KALEO_SITE_URL="https://example.org")
    result = cli("create-link", "alice@example.com", "--uses", "2")
    assert result.exit_code == 1 and "not enough for a link" in result.output
    result = cli("create-link", "alice@example.com", "--uses", "1", "--domain", "bad domain")
    assert result.exit_code == 1 and "not a valid domain" in result.output
