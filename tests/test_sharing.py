"""Sharing on the member's page: the new link kept in the member's session (shown
after a reload, forgotten when it stops being theirs to share), the remaining count's
badge, and a refused invitation's error shown once."""

from __future__ import annotations

import pytest
from flask import Flask
from flask import render_template_string
from flask.testing import FlaskClient
from flask_login import login_user
from flask_login import logout_user

from tests.helpers import AJAX
from tests.helpers import BROWSER
from tests.helpers import csrf_token
from tests.helpers import expire_link
from tests.helpers import join_as
from tests.helpers import make_user
from tests.helpers import new_user
from tests.helpers import path_of
from tests.helpers import post_invite
from tests.helpers import post_link
from tests.helpers import signed_in
from tests.hostapp import load_user

links_on = pytest.mark.settings(KALEO_ALLOW_LINKS=True)

SHARING = """{% from "kaleo/links.html" import create_link_form %}
{%- from "kaleo/macros.html" import invite_form, invitations_badge -%}
{% for text in get_flashed_messages() %}<p class="flash">{{ text }}</p>{% endfor %}
{{ invitations_badge(current_user) }}{{ invite_form(current_user) }}
{{ create_link_form(current_user) }}"""


@pytest.fixture
def sharing(app: Flask) -> Flask:
    """The host app with a page of the sharing macros at /sharing, and /bye that logs
    out through Flask-Login (whose user_logged_out signal kaleo listens to)."""
    app.add_url_rule("/sharing", "sharing", lambda: render_template_string(SHARING))
    app.add_url_rule("/bye", "bye", lambda: str(logout_user()))
    return app


def create(client: FlaskClient, uses: str = "2") -> str:
    """Create a link without JavaScript, as the form does; its URL from the JSON a
    script would get is not asked for: the page must show it."""
    headers = {**BROWSER, "Referer": "http://localhost/sharing"}
    created = post_link(client, headers=headers, uses=uses)
    assert created.status_code == 303
    assert created.location == "http://localhost/sharing#kaleo-new-link"  # the panel
    with client.session_transaction() as session:
        return str(session["kaleo.new_link"]["url"])


def shown(client: FlaskClient) -> str:
    return client.get("/sharing").get_data(as_text=True)


def panel_url(page: str) -> str | None:
    """The URL in the new-link panel's read-only field, if the panel is there."""
    marker = '<input type="text" class="kaleo-link-text" readonly value="'
    if marker not in page:
        return None
    return page.split(marker, 1)[1].split('"', 1)[0]


@links_on
def test_the_new_link_is_shown_after_creating_and_after_reloading(
    sharing: Flask, client: FlaskClient
) -> None:
    signed_in(client, allocation=5)
    url = create(client)
    page = shown(client)
    assert panel_url(page) == url
    assert '<div class="kaleo-new-link" id="kaleo-new-link"' in page
    assert page.count(url) == 1  # in the field only: the flash no longer carries it
    assert '<p class="flash">Link created for 2 people.</p>' in page
    assert "data-kaleo-copy" in page and "data-kaleo-copy-status" in page
    assert '<meter min="0" max="2" value="0" aria-hidden="true">' in page
    assert "0 of 2 used" in page
    assert panel_url(shown(client)) == url  # reloaded: still there


@links_on
def test_revoking_forgets_the_new_link(sharing: Flask, client: FlaskClient) -> None:
    signed_in(client, allocation=5)
    create(client)
    with client.session_transaction() as session:
        link_id = session["kaleo.new_link"]["id"]
    revoked = client.post(
        f"/invites/links/{link_id}/revoke", data={"csrf_token": csrf_token(client)}, headers=AJAX
    )
    assert revoked.json["status"] == "OK"
    assert panel_url(shown(client)) is None
    with client.session_transaction() as session:
        assert "kaleo.new_link" not in session  # forgotten, not just hidden


@links_on
def test_a_used_up_link_is_forgotten(sharing: Flask, client: FlaskClient) -> None:
    signed_in(client, allocation=5)
    url = create(client, uses="1")
    visitor = sharing.test_client()
    visitor.get(path_of(url))
    assert join_as(visitor, "carol@example.com").status_code == 201
    assert panel_url(shown(client)) is None


@links_on
def test_an_expired_link_is_forgotten(sharing: Flask, client: FlaskClient) -> None:
    signed_in(client, allocation=5)
    create(client)
    with client.session_transaction() as session:
        link_id = session["kaleo.new_link"]["id"]
    with sharing.app_context():
        expire_link(link_id)
    assert panel_url(shown(client)) is None


@links_on
def test_another_link_takes_its_place(sharing: Flask, client: FlaskClient) -> None:
    signed_in(client, allocation=5)
    first = create(client)
    second = create(client)
    page = shown(client)
    assert panel_url(page) == second and first not in page


@links_on
def test_logging_out_forgets_it(sharing: Flask, client: FlaskClient) -> None:
    signed_in(client, allocation=5)
    create(client)
    client.get("/bye")
    with client.session_transaction() as session:
        assert "kaleo.new_link" not in session


@links_on
def test_nobody_else_sees_it(sharing: Flask, client: FlaskClient) -> None:
    """Bob, signed in next at the same browser (no logout signal in between), does
    not see Alice's link; nor does another browser."""
    signed_in(client, allocation=5)
    url = create(client)
    signed_in(client, "bob@example.com", allocation=5)
    assert url not in shown(client)
    other = sharing.test_client()
    signed_in(other, "carol@example.com", allocation=5)
    assert panel_url(shown(other)) is None


@links_on
def test_signing_in_as_another_member_forgets_it(sharing: Flask, client: FlaskClient) -> None:
    """Bob signs in at Alice's browser without her logging out: the session cookie,
    which anyone at the browser can decode, no longer holds her link's URL."""
    bob = new_user(sharing, "bob@example.com").id
    sharing.add_url_rule("/as-bob", "as_bob", lambda: str(login_user(load_user(str(bob)))))
    signed_in(client, allocation=5)
    create(client)
    client.get("/as-bob")
    with client.session_transaction() as session:
        assert "kaleo.new_link" not in session


@links_on
def test_a_visitor_whose_sign_in_ended_does_not_see_it(sharing: Flask, client: FlaskClient) -> None:
    """The session outlives the sign-in without the logout signal (Flask-Login's
    strong session protection, Flask-Security after a password change): the page
    still answers, without the link."""
    signed_in(client, allocation=5)
    url = create(client)
    with client.session_transaction() as session:
        del session["_user_id"]
    response = client.get("/sharing")
    assert response.status_code == 200
    assert url not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("allocation", "words", "span"),
    [
        (-1, "unlimited invitations", None),
        (0, "no invitations left", '<span class="invitations_remaining" hidden>0</span>'),
        (1, "1 invitation left", '<span class="invitations_remaining">1</span>'),
        (3, "3 invitations left", '<span class="invitations_remaining">3</span>'),
    ],
)
def test_the_badge_reads_the_remaining_count(
    app: Flask, allocation: int, words: str, span: str | None
) -> None:
    """The badge says it in words; the number in kaleo's span stays bare (kaleo's
    jQuery snippet writes "(N)" into it), and there is none for -1."""
    template = (
        '{% from "kaleo/macros.html" import invitations_badge %}{{ invitations_badge(user) }}'
    )
    with app.test_request_context():
        user = make_user("alice@example.com", allocation)
        badge = render_template_string(template, user=user)
    assert badge.startswith('<p class="kaleo-invitations-badge" data-kaleo-badge>')
    number = "" if allocation == 0 else str(allocation)
    text = badge if span is None else badge.replace(span, number)
    assert text.endswith(f">{words}</p>"), badge
    if span is None:
        assert "invitations_remaining" not in badge
    else:
        assert span in badge


def test_the_invite_answer_carries_the_badge(app: Flask, client: FlaskClient) -> None:
    signed_in(client, allocation=3)
    body = post_invite(client, "carol@example.com").json
    assert body["status"] == "OK" and body["invitations_remaining"] == 2
    assert body["invitations_badge"] == (
        '<span class="invitations_remaining">2</span> invitations left'
    )


@pytest.mark.settings(KALEO_RATE_LIMITS={"member": 1, "address": None})
def test_a_refusal_without_a_field_is_the_forms_error_once(
    sharing: Flask, client: FlaskClient
) -> None:
    """A daily sending limit is about no one field: the page shows it once, as the
    form's error, and no flash repeats it."""
    signed_in(client, allocation=3)
    headers = {**BROWSER, "Referer": "http://localhost/sharing"}
    post_invite(client, "carol@example.com", headers=headers)
    shown(client)  # the success, flashed
    post_invite(client, "dave@example.com", headers=headers)
    page = shown(client)
    form_errors = page.split('<p class="kaleo-form-error">')[1:]
    assert len(form_errors) == 1, page
    sentence = form_errors[0].split("</p>", 1)[0]
    assert sentence and page.count(sentence) == 1
    assert '<p class="flash">' not in page
    assert 'value="dave@example.com"' in page  # what was typed, kept
