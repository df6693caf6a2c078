"""POST /invites/invite: the AJAX contract of kaleo's original jQuery snippet, its refusals, its
security answers (401, 400, 405), the no-JavaScript redirect, and its query count."""

from __future__ import annotations

import re
import typing as t

import pytest
import sqlalchemy as sa
from flask import Flask
from flask import render_template_string
from flask.testing import FlaskClient

from flask_kaleo import Kaleo
from tests.helpers import AJAX
from tests.helpers import BROWSER
from tests.helpers import Statements
from tests.helpers import assert_error
from tests.helpers import csrf_token
from tests.helpers import current_kaleo
from tests.helpers import invitation_count
from tests.helpers import kaleo_of
from tests.helpers import logout
from tests.helpers import make_invitation
from tests.helpers import make_invitations
from tests.helpers import make_user
from tests.helpers import post_invite
from tests.helpers import signed_in
from tests.hostapp import User
from tests.hostapp import db


def counters(app: Flask, user: User) -> tuple[int, int]:
    """(invites_sent of ``user``'s stat, number of invitation rows in the table)."""
    with app.app_context():
        return kaleo_of(app).allocation(user).invites_sent, invitation_count()


# -- success -------------------------------------------------------------------


def test_requests_inside_one_app_context_each_read_their_own_body(
    app: Flask, client: FlaskClient
) -> None:
    """An app context pushed around several requests (a test, a script) shares ``g``:
    nothing of one request's body or user may stick to the next."""
    signed_in(client, allocation=3)
    token = csrf_token(client)
    with app.app_context():
        for address in ("one@example.com", "two@example.com"):
            response = post_invite(client, address, token=token)
            assert (response.json["status"], response.json["email"]) == ("OK", address)


def test_ok_shape(app: Flask, client: FlaskClient, outbox: list[t.Any]) -> None:
    signed_in(client, allocation=2)
    response = post_invite(client, "Carol@Example.COM", "Come and see")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.json
    assert body["status"] == "OK"
    # The canonical address, stored and mailed: the local part as entered (not
    # lower-cased), the domain as validated (IDNA: lower case).
    assert body["email"] == "Carol@example.com"
    assert type(body["invitations_remaining"]) is int
    assert body["invitations_remaining"] == 1
    assert body["invitation"]["email"] == "Carol@example.com"
    assert body["invitation"]["status"] == "sent"
    assert re.search(r'<li class="sent"[^>]*>', body["html"])
    assert "Carol@example.com" in body["html"]
    assert [m.recipients for m in outbox] == [["Carol@example.com"]]


def test_ok_unlimited_reports_minus_one(app: Flask, client: FlaskClient) -> None:
    alice = signed_in(client, allocation=-1)
    for number in range(3):
        body = post_invite(client, f"friend{number}@example.com").json
        assert body["status"] == "OK"
        assert body["invitations_remaining"] == -1
    assert counters(app, alice) == (3, 3)


def test_last_invitation_reports_zero(app: Flask, client: FlaskClient) -> None:
    signed_in(client, allocation=1)
    assert post_invite(client, "carol@example.com").json["invitations_remaining"] == 0


# -- refusals: HTTP 200, ERROR shape, nothing spent ------------------------------


def test_refused_invalid_address(app: Flask, client: FlaskClient) -> None:
    alice = signed_in(client)
    errors = assert_error(post_invite(client, "not an address"))
    assert "valid email address" in errors
    assert ".)." not in errors  # the validator's own full stop is not doubled
    assert counters(app, alice) == (0, 0)


def test_refused_empty_address(app: Flask, client: FlaskClient) -> None:
    alice = signed_in(client)
    assert "Enter an email address" in assert_error(post_invite(client, "   "))
    assert counters(app, alice) == (0, 0)


@pytest.mark.parametrize("spelling", ["bob@example.com", "BOB@Example.Com"])
def test_refused_already_member(app: Flask, client: FlaskClient, spelling: str) -> None:
    alice = signed_in(client)
    with app.app_context():
        make_user("bob@example.com")
    errors = assert_error(post_invite(client, spelling))
    assert "already a member" in errors
    assert counters(app, alice) == (0, 0)


@pytest.mark.parametrize("allocation", [0, None])
def test_a_member_with_nothing_left_learns_nothing_about_addresses(
    app: Flask, client: FlaskClient, allocation: int | None
) -> None:
    """No invitations left: a member and a stranger get the same answer, so the invite
    form is no oracle of who is a member."""
    signed_in(client, allocation=allocation)
    with app.app_context():
        make_user("bob@example.com")
    answers = [assert_error(post_invite(client, a)) for a in ("bob@example.com", "x@example.com")]
    assert answers[0] == answers[1] and "no invitations left" in answers[0]


@pytest.mark.parametrize(
    ("first", "second"),
    [("dave@example.com", "dave@example.com"), ("alice2@example.com", "Alice2@Example.COM")],
)
def test_refused_already_invited_pending(
    app: Flask, client: FlaskClient, first: str, second: str
) -> None:
    alice = signed_in(client)
    assert post_invite(client, first).json["status"] == "OK"
    errors = assert_error(post_invite(client, second))
    assert "already invited" in errors
    assert counters(app, alice) == (1, 1)


@pytest.mark.parametrize("spelling", ["alice@example.com", "ALICE@example.COM"])
def test_refused_yourself(app: Flask, client: FlaskClient, spelling: str) -> None:
    alice = signed_in(client)
    assert "yourself" in assert_error(post_invite(client, spelling))
    assert counters(app, alice) == (0, 0)


def test_refused_no_invitations_left(app: Flask, client: FlaskClient) -> None:
    alice = signed_in(client, allocation=1)
    token = csrf_token(client)  # the form (and its token) is gone once none is left
    assert post_invite(client, "carol@example.com", token=token).json["status"] == "OK"
    errors = assert_error(post_invite(client, "dave@example.com", token=token))
    assert "no invitations left" in errors
    assert counters(app, alice) == (1, 1)


def test_refused_without_stat_row_and_default_allocation_zero(
    app: Flask, client: FlaskClient
) -> None:
    alice = signed_in(client, allocation=None)  # no stat row: the default allocation, 0
    token = csrf_token(client)  # the page shows no form to read it from
    response = post_invite(client, "carol@example.com", token=token)
    assert "no invitations left" in assert_error(response)
    assert counters(app, alice) == (0, 0)


def test_refused_message_too_long(app: Flask, client: FlaskClient) -> None:
    alice = signed_in(client)
    errors = assert_error(post_invite(client, "carol@example.com", "x" * 1001))
    assert "1,000 characters" in errors or "1000 characters" in errors
    assert counters(app, alice) == (0, 0)
    assert post_invite(client, "carol@example.com", "x" * 1000).json["status"] == "OK"


@pytest.mark.parametrize("state", ["expired", "revoked"])
def test_a_finished_invitation_does_not_block_a_new_one(
    app: Flask, client: FlaskClient, state: str
) -> None:
    alice = signed_in(client)
    with app.app_context():
        make_invitation(alice, "dave@example.com", state)
    body = post_invite(client, "Dave@Example.com").json
    assert body["status"] == "OK", body
    assert counters(app, alice) == (1, 2)


# -- user input is escaped in the errors HTML -------------------------------------


def test_member_address_is_escaped_in_errors(app: Flask, client: FlaskClient) -> None:
    signed_in(client)
    address = "o'brien&co@example.com"  # valid: ' and & are allowed in the local part
    with app.app_context():
        make_user(address)
    errors = assert_error(post_invite(client, address))
    assert "o&#39;brien&amp;co@example.com is already a member" in errors
    assert address not in errors


def test_validator_message_is_escaped_in_errors(app: Flask, client: FlaskClient) -> None:
    signed_in(client)
    errors = assert_error(post_invite(client, "x@example.com<script>"))
    inner = errors.removeprefix('<ul class="errorlist"><li>').removesuffix("</li></ul>")
    assert "<" not in inner and ">" not in inner
    assert "&lt;" in inner  # the validator quotes the offending characters, escaped


def test_pending_address_is_escaped_in_errors(app: Flask, client: FlaskClient) -> None:
    signed_in(client)
    address = "tom&jerry@example.com"
    assert post_invite(client, address).json["status"] == "OK"
    errors = assert_error(post_invite(client, address))
    assert "tom&amp;jerry@example.com" in errors
    assert "tom&jerry" not in errors


# -- not signed in, CSRF, wrong method --------------------------------------------


def test_not_signed_in_is_401_json(app: Flask, client: FlaskClient) -> None:
    alice = signed_in(client)
    token = csrf_token(client)
    logout(client)  # signed out, but the CSRF token stays valid
    for headers in (AJAX, {"Accept": "application/json"}):
        response = post_invite(client, "carol@example.com", headers=headers, token=token)
        assert "sign in" in assert_error(response, 401)
        assert response.headers.get("Location") is None
    assert counters(app, alice) == (0, 0)


def test_missing_csrf_token_is_400_json(app: Flask, client: FlaskClient) -> None:
    alice = signed_in(client)
    response = client.post(
        "/invites/invite", data={"email_address": "carol@example.com"}, headers=AJAX
    )
    assert "Reload the page" in assert_error(response, 400)
    assert counters(app, alice) == (0, 0)


def test_wrong_csrf_token_is_400_json(app: Flask, client: FlaskClient) -> None:
    alice = signed_in(client)
    csrf_token(client)  # the session has a real token; the request sends another
    response = post_invite(client, "carol@example.com", token="not-the-token")
    assert_error(response, 400)
    assert counters(app, alice) == (0, 0)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_wrong_method_is_405_json(app: Flask, client: FlaskClient, method: str) -> None:
    signed_in(client)
    response = client.open("/invites/invite", method=method, headers=AJAX)
    assert_error(response, 405)
    assert response.headers["Allow"] == "POST"


@pytest.mark.settings(PROPAGATE_EXCEPTIONS=False)
def test_unexpected_failure_is_a_json_500_for_json_callers(
    app: Flask, client: FlaskClient, kaleo: Kaleo[User]
) -> None:
    """Not a Flask HTML error page: kaleo's original jQuery snippet and our script read JSON."""
    alice = signed_in(client)
    token = csrf_token(client)
    del app.extensions["mail"]  # Flask-Mail forgotten: a server-side failure
    response = post_invite(client, "carol@example.com", token=token)
    assert_error(response, 500)
    assert "nothing was sent" in response.json["errors"]
    assert counters(app, alice) == (0, 1)  # spent, then given back
    with app.app_context():
        assert kaleo.sent_invitations(alice)[0].status == "undeliverable"


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
    signed_in(client)
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
    alice = signed_in(client)
    headers = {**BROWSER, "Referer": "http://localhost/profile"}
    response = post_invite(client, "carol@example.com", headers=headers)
    assert response.status_code == 303
    assert response.headers["Location"] in ("http://localhost/profile", "/profile")
    page = client.get("/profile").get_data(as_text=True)
    assert "<p class='success'>Invitation sent to carol@example.com.</p>" in page
    assert counters(app, alice) == (1, 1)


def test_browser_refusal_shows_the_error_once(app: Flask, client: FlaskClient) -> None:
    """A refusal goes back to the page with the error at its field, and not also in a
    flash above it."""
    form = '{% from "kaleo/macros.html" import invite_form %}{{ invite_form(current_user) }}'
    app.add_url_rule("/profile", "profile", lambda: render_template_string(FLASHES + form))
    alice = signed_in(client)
    headers = {**BROWSER, "Referer": "http://localhost/profile"}
    response = post_invite(client, "<b>@example.com", headers=headers, token=csrf_token(client))
    assert response.status_code == 303
    page = client.get("/profile", follow_redirects=True).get_data(as_text=True)
    assert page.count("Enter a valid email address") == 1
    assert '<span class="kaleo-field-error" id="email_address-error">Enter a valid' in page
    assert "<b>" not in page.replace("&lt;b&gt;", "")
    assert counters(app, alice) == (0, 0)


def test_browser_post_never_redirects_off_site(app: Flask, client: FlaskClient) -> None:
    signed_in(client)
    headers = {**BROWSER, "Referer": "https://evil.example.net/phish"}
    response = post_invite(client, "carol@example.com", headers=headers)
    assert response.status_code == 303
    assert "evil.example.net" not in response.headers["Location"]
    with client.session_transaction() as session:
        flashes = session.get("_flashes", [])
    assert ("success", "Invitation sent to carol@example.com.") in flashes


def test_browser_csrf_failure_redirects_with_flash(app: Flask, client: FlaskClient) -> None:
    signed_in(client)
    headers = {**BROWSER, "Referer": "http://localhost/"}
    response = client.post(
        "/invites/invite", data={"email_address": "carol@example.com"}, headers=headers
    )
    assert response.status_code == 303
    with client.session_transaction() as session:
        assert any("Reload the page" in text for _, text in session["_flashes"])


# -- query count ---------------------------------------------------------------------


def bulk_invitations(user: User, count: int) -> None:
    """``count`` earlier invitations by ``user``, inserted in one statement, and spent."""
    make_invitations(user, [f"old{number}@example.com" for number in range(count)])
    stat = current_kaleo().InvitationStat.__table__
    db.session.execute(
        sa.update(stat)
        .where(stat.c.user_id == user.id)
        .values(invites_sent=stat.c.invites_sent + count)
    )
    db.session.commit()


@pytest.mark.all_backends
def test_invite_statement_count_is_flat_in_history(
    app: Flask, client: FlaskClient, statements: Statements
) -> None:
    alice = signed_in(client, allocation=1000)
    token = csrf_token(client)
    with statements:
        assert post_invite(client, "first@example.com", token=token).json["status"] == "OK"
    fresh = statements.statements
    with app.app_context():
        bulk_invitations(alice, 200)
    with statements:
        body = post_invite(client, "second@example.com", token=token).json
    assert body["status"] == "OK"
    assert body["invitations_remaining"] == 1000 - 202
    assert statements.count == len(fresh), (fresh, statements.statements)
    assert len(fresh) <= 9, fresh
