"""The Jinja macros: the markup kaleo's original jQuery snippet works with,
imported without context, escaped, and the sent list in one query."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask
from flask import render_template_string
from flask_wtf.csrf import validate_csrf

from flask_kaleo import Kaleo
from tests.helpers import Node
from tests.helpers import make_invitations
from tests.helpers import make_user
from tests.helpers import parse
from tests.hostapp import User
from tests.hostapp import db

PAGE = """{% from "kaleo/macros.html" import invite_form, invites_sent, remaining_invites %}
<div class="invites">
<span class="invitations_remaining">({{ remaining_invites(user) }})</span>
{{ invite_form(user) }}
<div class="sent">{{ invites_sent(user) }}</div>
</div>"""


def render(app: Flask, user: User, template: str = PAGE) -> tuple[str, Node]:
    """Render ``template`` for ``user`` in a request, and check the CSRF token it shows."""
    with app.test_request_context("/"):
        user = db.session.merge(user)
        markup = render_template_string(template, user=user)
        for hidden in parse(markup).find("input", name="csrf_token"):
            validate_csrf(hidden.attrs["value"])  # raises if it is not this session's
    return markup, parse(markup)


def add_invitations(user: User, emails: list[str], state: str = "sent") -> None:
    make_invitations(user, emails, state, message="<script>alert('hi')</script>")


def test_form_markup_for_the_original_jquery_snippet(app: Flask) -> None:
    with app.app_context():
        alice = make_user("alice@example.com", allocation=3)
    markup, page = render(app, alice)
    assert page.one("div", id="invitation-form-messages")
    container = page.one("div", cls="invitation_form")
    form = container.one("form")
    assert form.attrs["method"] == "post"
    assert form.attrs["action"] == "/invites/invite"
    address = form.one("input", name="email_address")
    assert address.attrs["type"] == "text"  # `.invites form input[type=text]` clears it
    assert address.attrs["inputmode"] == "email"
    assert address.attrs["autocomplete"] == "email"
    assert len(form.find("input", type="text")) == 1  # clearing never hits another field
    assert form.one("textarea", name="message")
    hidden = form.one("input", name="csrf_token")
    assert hidden.attrs["type"] == "hidden" and hidden.attrs["value"]
    assert form.find("button", type="submit")
    # the whole page nests: .invites holds the form the snippet binds to
    assert page.one("div", cls="invites").find("form") == [form]


@pytest.mark.parametrize(
    ("allocation", "shown"), [(7, "5"), (-1, "-1")], ids=["finite", "unlimited"]
)
def test_remaining_invites_is_the_bare_number(
    app: Flask, allocation: int, shown: str, kaleo: Kaleo[User]
) -> None:
    """Like kaleo's tag and the JSON's invitations_remaining: -1 means unlimited."""
    with app.app_context():
        alice = make_user("alice@example.com", allocation=allocation)
        add_invitations(alice, ["a@example.com", "b@example.com"])
        stat = kaleo.InvitationStat.__table__
        db.session.execute(sa.update(stat).values(invites_sent=2))
        db.session.commit()
    template = (
        '{% from "kaleo/macros.html" import remaining_invites %}{{ remaining_invites(user) }}'
    )
    markup, _ = render(app, alice, template)
    assert markup == shown
    _, page = render(app, alice)
    assert page.one("span", cls="invitations_remaining").all_text() == f"({shown})"


@pytest.mark.parametrize(
    ("allocation", "sent", "shown"),
    [
        (0, 0, "You have not been given any invitations to send yet."),
        (2, 2, "You have no invitations left to send."),
    ],
    ids=["never-given", "used-up"],
)
def test_no_form_when_none_left(
    app: Flask, allocation: int, sent: int, shown: str, kaleo: Kaleo[User]
) -> None:
    """A member who never had any is not told they have none *left*."""
    with app.app_context():
        alice = make_user("alice@example.com", allocation=allocation)
        if sent:
            add_invitations(alice, [f"f{number}@example.com" for number in range(sent)])
        stat = kaleo.InvitationStat.__table__
        db.session.execute(sa.update(stat).values(invites_sent=sent))
        db.session.commit()
    _, page = render(app, alice)
    assert page.one("div", id="invitation-form-messages")
    container = page.one("div", cls="invitation_form")
    assert container.find("form") == []
    assert page.find("input", type="text") == []
    assert container.one("p", cls="kaleo-no-invitations").all_text() == shown
    assert page.one("span", cls="invitations_remaining").all_text() == "(0)"


def test_empty_list_has_exactly_one_empty_item(app: Flask) -> None:
    with app.app_context():
        alice = make_user("alice@example.com", allocation=1)
    _, page = render(app, alice)
    invite_list = page.one("ul", cls="invite-list")
    assert [(li.tag, li.classes) for li in invite_list.children] == [("li", {"empty-invites"})]


def test_list_item_per_invitation_with_its_status(app: Flask) -> None:
    with app.app_context():
        alice = make_user("alice@example.com", allocation=10)
        add_invitations(alice, ["s1@example.com", "s2@example.com"])
        add_invitations(alice, ["acc@example.com"], "accepted")
        add_invitations(alice, ["join@example.com"], "joined")
        add_invitations(alice, ["wait@example.com"], "sending")
        add_invitations(alice, ["bounce@example.com"], "undeliverable")
        make_user("bob@example.com", allocation=10)  # bob's list is not alice's
    _, page = render(app, alice)
    items = page.one("ul", cls="invite-list").children
    assert all(item.tag == "li" for item in items)
    assert page.find("li", cls="empty-invites") == []
    by_email = {item.one("span", cls="kaleo-email").all_text(): item.classes for item in items}
    assert by_email == {
        "s1@example.com": {"sent"},
        "s2@example.com": {"sent"},
        "acc@example.com": {"accepted"},
        "join@example.com": {"joined"},
        "wait@example.com": {"sent", "sending"},  # its email is on its way
        "bounce@example.com": {"undeliverable"},
    }
    labels = {item.one("span", cls="kaleo-email").all_text(): item for item in items}
    assert labels["wait@example.com"].one("span", cls="kaleo-status").all_text() == "sending"
    assert labels["bounce@example.com"].one("span", cls="kaleo-status").all_text() == (
        "undeliverable"
    )


def test_user_input_is_escaped(app: Flask, kaleo: Kaleo[User]) -> None:
    address = "o'brien&co+<x>@example.com"  # stored as-is by a bulk insert
    valid = "tom&jerry'@example.com"  # one that email-validator accepts, sent for real
    with app.app_context():
        alice = make_user("alice@example.com", allocation=5)
        add_invitations(alice, [address])
    with app.test_request_context("/"):
        kaleo.invite(db.session.merge(alice), valid, "<script>alert(1)</script> & more")
    markup, page = render(app, alice)
    assert "<script" not in markup and "<x>" not in markup
    assert "o'brien" not in markup and "tom&jerry" not in markup
    assert "o&#39;brien&amp;co+&lt;x&gt;@example.com" in markup
    emails = [span.all_text() for span in page.find("span", cls="kaleo-email")]
    assert emails == [address, valid]


@pytest.mark.parametrize("macro", ["invite_form", "invites_sent", "remaining_invites"])
def test_macros_work_imported_without_context(app: Flask, macro: str) -> None:
    """``{% from ... import %}`` passes no context: only globals reach the macros."""
    with app.app_context():
        alice = make_user("alice@example.com", allocation=2)
    template = (
        f'{{% from "kaleo/macros.html" import {macro} without context %}}{{{{ {macro}(user) }}}}'
    )
    markup, _ = render(app, alice, template)
    assert markup.strip()
