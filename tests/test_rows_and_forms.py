"""The sent list's rows and the invite form as a browser without JavaScript meets them:
fixed cells, accessible names naming the address, Revoke's confirmation step, the
outcome shown in its row, and a refused invitation coming back with what was typed."""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from flask_kaleo.models import utcnow
from tests.helpers import AJAX
from tests.helpers import Node
from tests.helpers import csrf_token
from tests.helpers import current_kaleo
from tests.helpers import invitation_to
from tests.helpers import make_invitations
from tests.helpers import parse
from tests.helpers import reconfigure
from tests.helpers import signed_in
from tests.hostapp import db

BROWSER = {"Accept": "text/html,application/xhtml+xml", "Referer": "http://localhost/manage"}
LONG = "a.very.long.address.that.goes.on.and.on.for.a.while@subdomain.example.com"


def page(client: FlaskClient, path: str = "/manage") -> Node:
    response = client.get(path)
    assert response.status_code == 200
    return parse(response.get_data(as_text=True))


def row(tree: Node, address: str) -> Node:
    (item,) = [
        li
        for li in tree.find("li")
        if li.find("span", cls="kaleo-email")
        and li.one("span", cls="kaleo-email").all_text() == address
    ]
    return item


def invited(app: Flask, client: FlaskClient, *addresses: str, state: str = "sent") -> t.Any:
    alice = signed_in(client, allocation=5)
    with app.app_context():
        make_invitations(alice, list(addresses), state)
    return alice


def post(client: FlaskClient, path: str, **form: str) -> t.Any:
    return client.post(path, data={"csrf_token": csrf_token(client), **form}, headers=BROWSER)


def test_each_row_has_fixed_cells_and_buttons_naming_the_address(
    app: Flask, client: FlaskClient
) -> None:
    reconfigure(app, KALEO_RESEND_INTERVAL=dt.timedelta(minutes=1))
    invited(app, client, "carol@example.com", LONG)
    with app.app_context():  # sent before the cool-down: Resend is offered
        model = current_kaleo().JoinInvitation
        db.session.execute(sa.update(model).values(sent_at=utcnow() - dt.timedelta(minutes=2)))
        db.session.commit()
    tree = page(client)
    for address in ("carol@example.com", LONG):
        item = row(tree, address)
        cells = [child.attrs.get("class") for child in item.children]
        assert cells == [
            "kaleo-email",
            "kaleo-status",
            "kaleo-details",  # when it expires
            "kaleo-row-actions",
            "kaleo-outcome",
        ]
        assert item.one("span", cls="kaleo-email").one("bdi").all_text() == address
        assert item.attrs["id"] == f"kaleo-invitation-{item.attrs['data-invitation-id']}"
        actions = item.one("span", cls="kaleo-row-actions")
        names = [button.attrs.get("aria-label") for button in actions.find("button")]
        assert names == [
            f"Actions for {address}",
            f"Resend the invitation to {address}",
            f"Extend the invitation to {address}",
            f"Revoke the invitation to {address}",
            f"Yes, revoke the invitation to {address}",
            f"Keep the invitation to {address}",
        ]
        for button in actions.find("button"):
            assert {"kaleo-button", "kaleo-small"} <= button.classes
        menu = actions.one("button", cls="kaleo-menu-button")
        assert "hidden" in menu.attrs  # kaleo.js shows it; without it, the forms show
        listed = actions.one(id=menu.attrs["aria-controls"])
        assert "hidden" not in listed.attrs and menu.attrs["aria-expanded"] == "false"
        assert len(listed.find("form")) == 3
        assert item.one("span", cls="kaleo-details").find("form") == []
        confirm = item.one("span", cls="kaleo-confirm")
        assert "hidden" in confirm.attrs  # shown by kaleo.js; without it, a page asks
        assert confirm.one("button", name="confirm").attrs["value"] == "yes"
        assert item.one("span", cls="kaleo-outcome").all_text() == ""


def test_rows_without_actions_keep_the_cells_and_have_no_buttons(
    app: Flask, client: FlaskClient
) -> None:
    invited(app, client, "carol@example.com")
    item = row(page(client, "/"), "carol@example.com")
    assert item.one("span", cls="kaleo-row-actions").children == []
    assert item.find("button") == [] and item.find("form") == []


def test_revoke_without_javascript_asks_first(app: Flask, client: FlaskClient) -> None:
    invited(app, client, "carol@example.com")
    with app.app_context():
        invitation_id = invitation_to("carol@example.com").id
    response = post(client, f"/invites/revoke/{invitation_id}")
    assert response.status_code == 200
    tree = parse(response.get_data(as_text=True))
    heading = tree.one("h1")  # the address isolated in a <bdi>, for right to left
    assert heading.text == "Revoke the invitation to ?"
    assert heading.one("bdi", cls="kaleo-address").all_text() == "carol@example.com"
    form = tree.one("form", cls="kaleo-revoke-confirm")
    assert form.attrs["action"] == f"/invites/revoke/{invitation_id}"
    assert form.one("input", name="confirm").attrs["value"] == "yes"
    assert form.one("input", name="next").attrs["value"] == "http://localhost/manage"
    assert tree.one("a", cls="kaleo-cancel").attrs["href"] == "http://localhost/manage"
    with app.app_context():
        assert invitation_to("carol@example.com").status == "sent"  # nothing done yet

    # the confirmation page sends no Referer (kaleo/base.html): ``next`` says where to go
    response = client.post(
        f"/invites/revoke/{invitation_id}",
        data={"csrf_token": csrf_token(client), "confirm": "yes", "next": "/manage"},
        headers={"Accept": "text/html"},
    )
    assert response.status_code == 303
    assert response.location == f"/manage#kaleo-invitation-{invitation_id}"
    with app.app_context():
        assert invitation_to("carol@example.com").status == "revoked"
    tree = page(client)
    item = row(tree, "carol@example.com")
    assert item.one("span", cls="kaleo-outcome").all_text() == (
        "Invitation to carol@example.com revoked."
    )
    assert item.find("button") == []
    assert row(page(client), "carol@example.com").one("span", cls="kaleo-outcome").all_text() == ""


def test_next_never_leaves_the_site(app: Flask, client: FlaskClient) -> None:
    invited(app, client, "carol@example.com")
    with app.app_context():
        invitation_id = invitation_to("carol@example.com").id
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example", "/\r\nX: 1"):
        response = client.post(
            f"/invites/resend/{invitation_id}",
            data={"csrf_token": csrf_token(client), "next": target},
            headers={"Accept": "text/html"},
        )
        assert response.status_code == 303
        assert response.location.startswith("/#kaleo-invitation-"), (target, response.location)


def test_script_callers_revoke_at_once(app: Flask, client: FlaskClient) -> None:
    """The JSON contract is unchanged: kaleo.js asks in the page, then posts."""
    invited(app, client, "carol@example.com")
    with app.app_context():
        invitation_id = invitation_to("carol@example.com").id
    body = client.post(
        f"/invites/revoke/{invitation_id}", data={"csrf_token": csrf_token(client)}, headers=AJAX
    ).json
    assert (body["status"], body["invitation"]["status"]) == ("OK", "revoked")


def test_refused_row_action_is_told_once_in_red_in_its_row(app: Flask, client: FlaskClient) -> None:
    reconfigure(app, KALEO_RESEND_INTERVAL=dt.timedelta(minutes=5))
    invited(app, client, "carol@example.com")
    with app.app_context():
        invitation_id = invitation_to("carol@example.com").id
    response = post(client, f"/invites/resend/{invitation_id}")
    assert response.status_code == 303
    assert response.location == f"http://localhost/manage#kaleo-invitation-{invitation_id}"
    with client.session_transaction() as session:
        assert "_flashes" not in session  # the row is the one place it is said
    markup = client.get("/manage").get_data(as_text=True)
    assert markup.count("a moment ago") == 1
    outcome = row(parse(markup), "carol@example.com").one("span", cls="kaleo-outcome")
    assert "a moment ago" in outcome.all_text()
    assert "kaleo-outcome-refused" in outcome.classes
    assert "kaleo-outcome-done" not in outcome.classes
    again = row(page(client), "carol@example.com").one("span", cls="kaleo-outcome")
    assert again.all_text() == ""  # once


def test_done_row_action_is_told_once_in_green_in_its_row(app: Flask, client: FlaskClient) -> None:
    reconfigure(app, KALEO_RESEND_INTERVAL=dt.timedelta(0))
    invited(app, client, "carol@example.com")
    with app.app_context():
        invitation_id = invitation_to("carol@example.com").id
    assert post(client, f"/invites/resend/{invitation_id}").status_code == 303
    with client.session_transaction() as session:
        assert "_flashes" not in session
    markup = client.get("/manage").get_data(as_text=True)
    assert markup.count("Invitation sent again to carol@example.com.") == 1
    outcome = row(parse(markup), "carol@example.com").one("span", cls="kaleo-outcome")
    assert outcome.classes == {"kaleo-outcome", "kaleo-outcome-done"}


def test_refused_invitation_without_javascript_keeps_what_was_typed(
    app: Flask, client: FlaskClient
) -> None:
    signed_in(client, allocation=3)
    message = "Come & join <us>, it's good."
    response = post(client, "/invites/invite", email_address="not an address", message=message)
    assert response.status_code == 303
    tree = page(client)
    form = tree.one("form", cls="kaleo-invite-form")
    address = form.one("input", name="email_address")
    assert address.attrs["value"] == "not an address"
    assert address.attrs["aria-invalid"] == "true"
    error = form.one("span", id=address.attrs["aria-describedby"])
    assert "valid email address" in error.all_text()
    assert error.parent is not None and "kaleo-has-error" in error.parent.classes
    text = form.one("textarea", name="message")
    assert text.all_text().strip() == message
    assert "aria-invalid" not in text.attrs

    form = page(client).one("form", cls="kaleo-invite-form")  # shown once, then empty
    assert form.one("input", name="email_address").attrs.get("value", "") == ""
    assert form.find("span", cls="kaleo-field-error") == []


def test_message_error_is_at_the_message_field(app: Flask, client: FlaskClient) -> None:
    signed_in(client, allocation=3)
    post(client, "/invites/invite", email_address="carol@example.com", message="x" * 1001)
    form = page(client).one("form", cls="kaleo-invite-form")
    assert form.one("input", name="email_address").attrs["value"] == "carol@example.com"
    assert "aria-invalid" not in form.one("input", name="email_address").attrs
    text = form.one("textarea", name="message")
    assert text.attrs["aria-invalid"] == "true"
    assert form.one("span", id=text.attrs["aria-describedby"]).all_text()


def test_script_callers_keep_nothing_in_the_session(app: Flask, client: FlaskClient) -> None:
    signed_in(client, allocation=3)
    body = client.post(
        "/invites/invite",
        data={"csrf_token": csrf_token(client), "email_address": "nope"},
        headers=AJAX,
    ).json
    assert body["status"] == "ERROR" and body["error_list"]["email_address"]
    form = page(client).one("form", cls="kaleo-invite-form")
    assert form.find("span", cls="kaleo-field-error") == []


def test_nothing_to_ask_about_an_invitation_no_longer_pending(
    app: Flask, client: FlaskClient
) -> None:
    invited(app, client, "carol@example.com", state="accepted")
    with app.app_context():
        invitation_id = invitation_to("carol@example.com").id
    response = post(client, f"/invites/revoke/{invitation_id}")
    assert response.status_code == 303  # refused at once, told in the row
    outcome = row(page(client), "carol@example.com").one("span", cls="kaleo-outcome")
    assert outcome.all_text() == "This invitation has already been used."


def test_what_was_typed_is_kept_for_its_author_only(app: Flask, client: FlaskClient) -> None:
    """A shared browser: what Alice typed is not shown to Bob, who signs in next (nor
    after Flask-Login's logout, which forgets it)."""
    signed_in(client, allocation=3)
    post(client, "/invites/invite", email_address="not an address", message="private note")
    signed_in(client, "bob@example.com")  # the same browser, another member
    form = page(client).one("form", cls="kaleo-invite-form")
    assert form.one("input", name="email_address").attrs.get("value", "") == ""
    assert "private note" not in form.one("textarea", name="message").all_text()


def test_a_message_too_large_for_the_cookie_is_not_kept(app: Flask, client: FlaskClient) -> None:
    """Kept input must fit the session cookie (a browser drops one over about 4 KB, and
    the refusal with it): the address and the error stay, the long message does not."""
    signed_in(client, allocation=3)
    message = "招待" * 500  # 1,000 characters, 6 bytes each in JSON
    response = post(client, "/invites/invite", email_address="not an address", message=message)
    assert len(response.headers["Set-Cookie"]) < 4000
    form = page(client).one("form", cls="kaleo-invite-form")
    assert form.one("input", name="email_address").attrs["value"] == "not an address"
    assert form.one("textarea", name="message").all_text().strip() == ""
    assert form.find("span", cls="kaleo-field-error") != []


@pytest.mark.all_backends
@pytest.mark.parametrize("action", ["resend", "revoke", "extend"])
def test_an_id_wider_than_the_column_is_no_invitation(client: FlaskClient, action: str) -> None:
    """PostgreSQL refuses to look up an id wider than the id column: the same 404 as
    any id that is not the member's, not a 500."""
    signed_in(client)
    form = {"csrf_token": csrf_token(client), "by": "7d"}
    response = client.post(f"/invites/{action}/{2**31}", data=form, headers=AJAX)
    assert response.status_code == 404
    assert "There is no such invitation among those you sent." in response.json["errors"]
