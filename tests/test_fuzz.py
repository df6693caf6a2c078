"""Hostile bodies on every POST endpoint: always a JSON answer below 500, nothing spent.

Hypothesis posts arbitrary JSON values (at the top level and in every field, NaN and
deep nesting included), arbitrary bytes declared as JSON, and arbitrary form data, with
a valid CSRF token so that the bodies reach the endpoints' own parsing. The member has
no invitations left and the invitation ids belong to someone else (or are too recent
to resend), so a correct endpoint can only refuse: any change to the counters or the
invitations is a failure, and so is a 500 or an HTML answer.
"""

from __future__ import annotations

import json
import typing as t

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck
from hypothesis import example
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from flask_kaleo import Kaleo
from tests.helpers import SetHook
from tests.helpers import csrf_token
from tests.helpers import fresh
from tests.helpers import kaleo_of
from tests.helpers import login
from tests.helpers import make_user
from tests.helpers import post_invite
from tests.hostapp import User
from tests.hostapp import db

FIELDS = ["email_address", "message", "csrf_token", "amount", "user", "everyone"]
EXAMPLES = 120
"""Examples per endpoint and body kind (three kinds, five endpoints)."""

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
json_bodies = st.one_of(
    st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=10), json_values, max_size=5),
    json_values,
).map(lambda value: json.dumps(value, allow_nan=True).encode())
raw_bodies = st.binary(max_size=200)
form_bodies = st.dictionaries(
    st.sampled_from(FIELDS) | st.text(max_size=10),
    st.text(max_size=60) | st.lists(st.text(max_size=20), max_size=3),
    max_size=5,
)
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
DEEP = b"[" * 100_000 + b"]" * 100_000


class Target(t.NamedTuple):
    client: FlaskClient
    urls: dict[str, str]
    headers: dict[str, str]


@pytest.fixture
def target(app: Flask, client: FlaskClient, kaleo: Kaleo[User]) -> Target:
    """A member with nothing left and a pending invitation; someone else's invitation;
    the manage permission for the member (the staff endpoints then parse their body)."""
    with app.app_context():
        other = make_user("other@example.com", allocation=1)
        member = make_user("member@example.com", allocation=1)
        fresh(other, member)
    login(client, other)
    assert post_invite(client, "first@example.com").json["status"] == "OK"
    login(client, member)
    assert post_invite(client, "second@example.com").json["status"] == "OK"  # none left now
    with app.app_context():
        model = kaleo.JoinInvitation
        ids = {email: id_ for email, id_ in db.session.execute(sa.select(model.email, model.id))}
    urls = {
        "invite": "/invites/invite",
        "resend": f"/invites/resend/{ids['second@example.com']}",  # sent a moment ago
        "revoke": f"/invites/revoke/{ids['first@example.com']}",  # someone else's
        "staff/topoff": "/invites/staff/topoff",
        "staff/add": "/invites/staff/add",
    }
    headers = {"Accept": "application/json", "X-CSRFToken": csrf_token(client)}
    return Target(client, urls, headers)


@pytest.fixture
def staff_hook(manage_hook: SetHook) -> None:
    manage_hook(lambda user: True)


def snapshot(app: Flask) -> tuple[list[t.Any], list[t.Any]]:
    """Every counter and every invitation's state, as stored."""
    with app.app_context():
        kaleo = kaleo_of(app)
        stat, model = kaleo.InvitationStat.__table__, kaleo.JoinInvitation
        counters = db.session.execute(sa.select(stat).order_by(stat.c.user_id)).all()
        invitations = db.session.execute(
            sa.select(model.id, model.status, model.token_digest, model.pending_email_key)
        ).all()
        return list(counters), list(invitations)


def check(app: Flask, before: t.Any, response: t.Any, endpoint: str) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    assert response.is_json, response.get_data(as_text=True)[:300]
    assert response.json["status"] in ("OK", "ERROR")
    if response.json["status"] == "ERROR":
        assert response.json["errors"].startswith('<ul class="errorlist">')
        assert snapshot(app) == before
    else:  # a staff body that happened to be valid may change allocations, nothing else
        assert endpoint.startswith("staff/")


ENDPOINTS = ["invite", "resend", "revoke", "staff/topoff", "staff/add"]


@pytest.mark.usefixtures("staff_hook")
@pytest.mark.parametrize("endpoint", ENDPOINTS)
@FUZZ
@given(body=json_bodies | raw_bodies)
@example(body=b'{"email_address": 5}')
@example(body=b'{"email_address": ["a@example.com"], "message": {"x": 1}}')
@example(body=b"[1, 2]")
@example(body=b"NaN")
@example(body=b'{"amount": NaN, "user": "1000000000000000000000000000000"}')
@example(body=b'{"amount": 1e400}')
@example(body=b"{not json")
@example(body=b"\xff\xfe")
@example(body=DEEP)
def test_any_json_body(app: Flask, target: Target, endpoint: str, body: bytes) -> None:
    before = snapshot(app)
    response = target.client.post(
        target.urls[endpoint],
        data=body,
        headers={**target.headers, "Content-Type": "application/json"},
    )
    check(app, before, response, endpoint)


@pytest.mark.usefixtures("staff_hook")
@pytest.mark.parametrize("endpoint", ENDPOINTS)
@FUZZ
@given(form=form_bodies)
@example(form={"email_address": "member@example.com", "message": "\x00"})
@example(form={"amount": "1" * 30, "user": "9" * 30})
@example(form={"email_address": ["a@example.com", "b@example.com"]})
def test_any_form_body(app: Flask, target: Target, endpoint: str, form: dict[str, t.Any]) -> None:
    before = snapshot(app)
    response = target.client.post(target.urls[endpoint], data=form, headers=target.headers)
    check(app, before, response, endpoint)


@pytest.mark.parametrize("path", ["abc", "1" * 40, "-1", "%00", "1.5", "０"])
def test_odd_invitation_ids_are_404(target: Target, path: str) -> None:
    for action in ("resend", "revoke"):
        response = target.client.post(f"/invites/{action}/{path}", headers=target.headers)
        assert response.status_code == 404
        assert response.json["status"] == "ERROR"


@pytest.mark.usefixtures("staff_hook")
@pytest.mark.parametrize("user", ["9" * 30, "-" + "9" * 30, "a" * 300, "%FF"])
def test_odd_staff_users_are_404(target: Target, user: str) -> None:
    response = target.client.get(f"/invites/staff/stat/{user}", headers=target.headers)
    assert response.status_code == 404
    assert response.json["status"] == "ERROR"


@pytest.mark.settings(MAX_CONTENT_LENGTH=1024)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_body_over_max_content_length_is_413_json(
    app: Flask, target: Target, endpoint: str
) -> None:
    before = snapshot(app)
    for body in ({"message": "x" * 4096}, b'{"message": "' + b"x" * 4096 + b'"}'):
        kind = {} if isinstance(body, dict) else {"Content-Type": "application/json"}
        response = target.client.post(
            target.urls[endpoint], data=body, headers={**target.headers, **kind}
        )
        assert response.status_code == 413
        assert response.json["status"] == "ERROR"
    assert snapshot(app) == before
