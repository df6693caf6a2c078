"""POST /invites/invite: the seed's AJAX contract (DESIGN 4), its refusals, its
security answers (401, 400, 405), the no-JavaScript redirect, and its query count."""

from __future__ import annotations

import datetime as dt
import re
import typing as t

import pytest
import sqlalchemy as sa
from flask import Flask
from flask import render_template_string
from flask import session as flask_session
from flask.testing import FlaskClient
from flask_wtf.csrf import generate_csrf

from flask_kaleo.models import Status
from flask_kaleo.models import utcnow
from flask_kaleo.tokens import token_digest
from tests.conftest import AJAX
from tests.conftest import BROWSER
from tests.conftest import StatementCounter
from tests.conftest import csrf_token
from tests.conftest import login
from tests.conftest import make_user
from tests.conftest import post_invite
from tests.hostapp import User
from tests.hostapp import db
from tests.hostapp import kaleo

ERRORS = re.compile(r'<ul class="errorlist">(?:<li>[^<>]+</li>)+</ul>')


def counters(app: Flask, user: User) -> tuple[int, int]:
    """(invites_sent of ``user``'s stat, number of invitation rows in the table)."""
    with app.app_context():
        stat = kaleo.stat_for(user)
        rows = db.session.scalar(sa.select(sa.func.count()).select_from(kaleo.JoinInvitation))
        return stat.invites_sent, int(rows or 0)


def signed_in(app: Flask, client: FlaskClient, allocation: int = 3) -> User:
    with app.app_context():
        alice = make_user("alice@example.com", allocation=allocation)
    login(client, alice)
    return alice


def signed_csrf_token(app: Flask, client: FlaskClient) -> str:
    """A CSRF token for ``client``'s session, made without rendering a form."""
    with app.test_request_context():
        token = generate_csrf()
        raw = flask_session["csrf_token"]
    with client.session_transaction() as session:
        session["csrf_token"] = raw
    return str(token)


def assert_error_shape(response: t.Any, status: int = 200) -> str:
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.json
    assert body["status"] == "ERROR"
    assert ERRORS.fullmatch(body["errors"]), body["errors"]
    return str(body["errors"])


# -- success -------------------------------------------------------------------


def test_ok_shape(app: Flask, client: FlaskClient, outbox: list[t.Any]) -> None:
    signed_in(app, client, allocation=2)
    response = post_invite(client, "Carol@Example.COM", "Come and see")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.json
    assert body["status"] == "OK"
    assert body["email"] == "Carol@Example.COM"  # as entered, not normalised
    assert type(body["invitations_remaining"]) is int
    assert body["invitations_remaining"] == 1
    assert body["invitation"]["email"] == "Carol@Example.COM"
    assert body["invitation"]["status"] == "sent"
    assert re.search(r'<li class="sent"[^>]*>', body["html"])
    assert "Carol@Example.COM" in body["html"]
    assert [m.recipients for m in outbox] == [["Carol@Example.COM"]]


def test_ok_unlimited_reports_minus_one(app: Flask, client: FlaskClient) -> None:
    alice = signed_in(app, client, allocation=-1)
    for number in range(3):
        body = post_invite(client, f"friend{number}@example.com").json
        assert body["status"] == "OK"
        assert body["invitations_remaining"] == -1
    assert counters(app, alice) == (3, 3)


def test_last_invitation_reports_zero(app: Flask, client: FlaskClient) -> None:
    signed_in(app, client, allocation=1)
    assert post_invite(client, "carol@example.com").json["invitations_remaining"] == 0


# -- refusals: HTTP 200, ERROR shape, nothing spent ------------------------------


def test_refused_invalid_address(app: Flask, client: FlaskClient) -> None:
    alice = signed_in(app, client)
    errors = assert_error_shape(post_invite(client, "not an address"))
    assert "valid email address" in errors
    assert ".)." not in errors  # the validator's own full stop is not doubled
    assert counters(app, alice) == (0, 0)


def test_refused_empty_address(app: Flask, client: FlaskClient) -> None:
    alice = signed_in(app, client)
    assert "Enter an email address" in assert_error_shape(post_invite(client, "   "))
    assert counters(app, alice) == (0, 0)


@pytest.mark.parametrize("spelling", ["bob@example.com", "BOB@Example.Com"])
def test_refused_already_member(app: Flask, client: FlaskClient, spelling: str) -> None:
    alice = signed_in(app, client)
    with app.app_context():
        make_user("bob@example.com")
    errors = assert_error_shape(post_invite(client, spelling))
    assert "already a member" in errors
    assert counters(app, alice) == (0, 0)


@pytest.mark.parametrize(
    ("first", "second"),
    [("dave@example.com", "dave@example.com"), ("alice2@example.com", "Alice2@Example.COM")],
)
def test_refused_already_invited_pending(
    app: Flask, client: FlaskClient, first: str, second: str
) -> None:
    alice = signed_in(app, client)
    assert post_invite(client, first).json["status"] == "OK"
    errors = assert_error_shape(post_invite(client, second))
    assert "already invited" in errors
    assert counters(app, alice) == (1, 1)


@pytest.mark.parametrize("spelling", ["alice@example.com", "ALICE@example.COM"])
def test_refused_yourself(app: Flask, client: FlaskClient, spelling: str) -> None:
    alice = signed_in(app, client)
    assert "yourself" in assert_error_shape(post_invite(client, spelling))
    assert counters(app, alice) == (0, 0)


def test_refused_no_invitations_left(app: Flask, client: FlaskClient) -> None:
    alice = signed_in(app, client, allocation=1)
    token = csrf_token(client)  # the form (and its token) is gone once none is left
    assert post_invite(client, "carol@example.com", token=token).json["status"] == "OK"
    errors = assert_error_shape(post_invite(client, "dave@example.com", token=token))
    assert "no invitations left" in errors
    assert counters(app, alice) == (1, 1)


def test_refused_without_stat_row_and_default_allocation_zero(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        alice = make_user("alice@example.com")  # no stat row: the default allocation, 0
    login(client, alice)
    token = signed_csrf_token(app, client)  # the page shows no form to read it from
    response = post_invite(client, "carol@example.com", token=token)
    assert "no invitations left" in assert_error_shape(response)
    assert counters(app, alice) == (0, 0)


@pytest.mark.settings(KALEO_MESSAGE_MAX_LENGTH=10)
def test_refused_message_too_long(app: Flask, client: FlaskClient) -> None:
    alice = signed_in(app, client)
    errors = assert_error_shape(post_invite(client, "carol@example.com", "x" * 11))
    assert "10 characters" in errors
    assert counters(app, alice) == (0, 0)
    assert post_invite(client, "carol@example.com", "x" * 10).json["status"] == "OK"


def test_expired_invitation_does_not_block_a_new_one(app: Flask, client: FlaskClient) -> None:
    alice = signed_in(app, client)
    assert post_invite(client, "dave@example.com").json["status"] == "OK"
    with app.app_context():
        db.session.execute(
            sa.update(kaleo.JoinInvitation).values(expires_at=utcnow() - dt.timedelta(hours=1))
        )
        db.session.commit()
    body = post_invite(client, "Dave@Example.com").json
    assert body["status"] == "OK", body
    assert counters(app, alice) == (2, 2)


def test_revoked_invitation_does_not_block_a_new_one(app: Flask, client: FlaskClient) -> None:
    alice = signed_in(app, client)
    assert post_invite(client, "dave@example.com").json["status"] == "OK"
    with app.app_context():
        db.session.execute(
            sa.update(kaleo.JoinInvitation).values(
                status=Status.REVOKED.value, pending_email_key=None
            )
        )
        db.session.commit()
    assert post_invite(client, "dave@example.com").json["status"] == "OK"
    assert counters(app, alice) == (2, 2)


# -- user input is escaped in the errors HTML -------------------------------------


def test_member_address_is_escaped_in_errors(app: Flask, client: FlaskClient) -> None:
    signed_in(app, client)
    address = "o'brien&co@example.com"  # valid: ' and & are allowed in the local part
    with app.app_context():
        make_user(address)
    errors = assert_error_shape(post_invite(client, address))
    assert "o&#39;brien&amp;co@example.com is already a member" in errors
    assert address not in errors


def test_validator_message_is_escaped_in_errors(app: Flask, client: FlaskClient) -> None:
    signed_in(app, client)
    errors = assert_error_shape(post_invite(client, "x@example.com<script>"))
    inner = errors.removeprefix('<ul class="errorlist"><li>').removesuffix("</li></ul>")
    assert "<" not in inner and ">" not in inner
    assert "&lt;" in inner  # the validator quotes the offending characters, escaped


def test_pending_address_is_escaped_in_errors(app: Flask, client: FlaskClient) -> None:
    signed_in(app, client)
    address = "tom&jerry@example.com"
    assert post_invite(client, address).json["status"] == "OK"
    errors = assert_error_shape(post_invite(client, address))
    assert "tom&amp;jerry@example.com" in errors
    assert "tom&jerry" not in errors


# -- not signed in, CSRF, wrong method --------------------------------------------


def test_not_signed_in_is_401_json(app: Flask, client: FlaskClient) -> None:
    alice = signed_in(app, client)
    token = csrf_token(client)
    with client.session_transaction() as session:
        del session["_user_id"]  # signed out, but the CSRF token stays valid
    for headers in (AJAX, {"Accept": "application/json"}):
        response = post_invite(client, "carol@example.com", headers=headers, token=token)
        assert "sign in" in assert_error_shape(response, 401)
        assert response.headers.get("Location") is None
    assert counters(app, alice) == (0, 0)


def test_missing_csrf_token_is_400_json(app: Flask, client: FlaskClient) -> None:
    alice = signed_in(app, client)
    response = client.post(
        "/invites/invite", data={"email_address": "carol@example.com"}, headers=AJAX
    )
    assert "Reload the page" in assert_error_shape(response, 400)
    assert counters(app, alice) == (0, 0)


def test_wrong_csrf_token_is_400_json(app: Flask, client: FlaskClient) -> None:
    alice = signed_in(app, client)
    csrf_token(client)  # the session has a real token; the request sends another
    response = post_invite(client, "carol@example.com", token="not-the-token")
    assert_error_shape(response, 400)
    assert counters(app, alice) == (0, 0)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_wrong_method_is_405_json(app: Flask, client: FlaskClient, method: str) -> None:
    signed_in(app, client)
    response = client.open("/invites/invite", method=method, headers=AJAX)
    assert_error_shape(response, 405)
    assert response.headers["Allow"] == "POST"


@pytest.mark.settings(PROPAGATE_EXCEPTIONS=False)
def test_unexpected_failure_is_a_json_500_for_json_callers(app: Flask, client: FlaskClient) -> None:
    """Not a Flask HTML error page: the seed's snippet and our script read JSON."""
    alice = signed_in(app, client)
    token = csrf_token(client)
    del app.extensions["mail"]  # Flask-Mail forgotten: a server-side failure
    response = post_invite(client, "carol@example.com", token=token)
    assert_error_shape(response, 500)
    assert "nothing was sent" in response.json["errors"]
    assert counters(app, alice) == (0, 0)


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_wrong_method_for_a_browser_is_405_with_allow(
    app: Flask, client: FlaskClient, method: str
) -> None:
    response = client.open("/invites/invite", method=method, headers=BROWSER)
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"


# -- JSON versus a plain browser post ----------------------------------------------


def test_jquery_form_request_gets_json(app: Flask, client: FlaskClient) -> None:
    """jquery.form sends ``Accept: */*`` and X-Requested-With."""
    signed_in(app, client)
    headers = {"X-Requested-With": "XMLHttpRequest", "Accept": "*/*"}
    response = post_invite(client, "carol@example.com", headers=headers)
    assert response.mimetype == "application/json"
    assert response.json["status"] == "OK"


FLASHES = (
    "{% for category, text in get_flashed_messages(with_categories=true) %}"
    "<p class='{{ category }}'>{{ text }}</p>{% endfor %}"
)


def add_flash_page(app: Flask) -> None:
    app.add_url_rule("/profile", "profile", lambda: render_template_string(FLASHES))


def test_browser_post_redirects_back_with_flash(app: Flask, client: FlaskClient) -> None:
    add_flash_page(app)
    alice = signed_in(app, client)
    headers = {**BROWSER, "Referer": "http://localhost/profile"}
    response = post_invite(client, "carol@example.com", headers=headers)
    assert response.status_code == 303
    assert response.headers["Location"] in ("http://localhost/profile", "/profile")
    page = client.get("/profile").get_data(as_text=True)
    assert "<p class='success'>Invitation sent to carol@example.com.</p>" in page
    assert counters(app, alice) == (1, 1)


def test_browser_refusal_redirects_back_with_flash(app: Flask, client: FlaskClient) -> None:
    add_flash_page(app)
    alice = signed_in(app, client)
    headers = {**BROWSER, "Referer": "http://localhost/profile"}
    response = post_invite(client, "<b>@example.com", headers=headers, token=csrf_token(client))
    assert response.status_code == 303
    page = client.get("/profile", follow_redirects=True).get_data(as_text=True)
    assert "<p class='error'>Enter a valid email address" in page
    assert "<b>" not in page
    assert counters(app, alice) == (0, 0)


def test_browser_post_never_redirects_off_site(app: Flask, client: FlaskClient) -> None:
    signed_in(app, client)
    headers = {**BROWSER, "Referer": "https://evil.example.net/phish"}
    response = post_invite(client, "carol@example.com", headers=headers)
    assert response.status_code == 303
    assert "evil.example.net" not in response.headers["Location"]
    with client.session_transaction() as session:
        flashes = session.get("_flashes", [])
    assert ("success", "Invitation sent to carol@example.com.") in flashes


def test_browser_csrf_failure_redirects_with_flash(app: Flask, client: FlaskClient) -> None:
    signed_in(app, client)
    headers = {**BROWSER, "Referer": "http://localhost/"}
    response = client.post(
        "/invites/invite", data={"email_address": "carol@example.com"}, headers=headers
    )
    assert response.status_code == 303
    with client.session_transaction() as session:
        assert any("Reload the page" in text for _, text in session["_flashes"])


# -- query count ---------------------------------------------------------------------


def bulk_invitations(user: User, count: int) -> None:
    """``count`` earlier invitations by ``user``, inserted in one statement."""
    now = utcnow()
    rows = [
        {
            "from_user_id": user.id,
            "email": f"old{number}@example.com",
            "email_key": f"old{number}@example.com",
            "pending_email_key": f"old{number}@example.com",
            "message": None,
            "sent_at": now,
            "expires_at": now + dt.timedelta(days=7),
            "status": Status.SENT.value,
            "token_digest": token_digest(f"bulk-{user.id}-{number}"),
        }
        for number in range(count)
    ]
    db.session.execute(sa.insert(kaleo.JoinInvitation), rows)
    stat = kaleo.InvitationStat.__table__
    db.session.execute(
        sa.update(stat)
        .where(stat.c.user_id == user.id)
        .values(invites_sent=stat.c.invites_sent + count)
    )
    db.session.commit()


def test_invite_statement_count_is_flat_in_history(app: Flask, client: FlaskClient) -> None:
    alice = signed_in(app, client, allocation=1000)
    token = csrf_token(client)
    with app.app_context():
        engine = db.engine
    with StatementCounter(engine) as fresh:
        assert post_invite(client, "first@example.com", token=token).json["status"] == "OK"
    with app.app_context():
        bulk_invitations(alice, 200)
    with StatementCounter(engine) as busy:
        body = post_invite(client, "second@example.com", token=token).json
    assert body["status"] == "OK"
    assert body["invitations_remaining"] == 1000 - 202
    assert busy.count == fresh.count, (fresh.statements, busy.statements)
    assert fresh.count <= 8, fresh.statements
