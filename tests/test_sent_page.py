"""The sent list a page at a time: the newest 50 oldest first, older and newer pages a
keyset cursor away (plain links), counts by state, a filter by state, a cursor that is
not one reading the first page, two statements whatever the history; and the action
menu of each row by state, with Resend disabled until its cool-down ends."""

from __future__ import annotations

import datetime as dt
import re
import typing as t
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask
from flask import render_template_string
from flask.testing import FlaskClient

from flask_kaleo import Kaleo
from flask_kaleo.core import keyset
from flask_kaleo.models import utcnow
from tests.helpers import AJAX
from tests.helpers import Node
from tests.helpers import Statements
from tests.helpers import csrf_token
from tests.helpers import current_kaleo
from tests.helpers import expire
from tests.helpers import invitation_to
from tests.helpers import make_invitations
from tests.helpers import parse
from tests.helpers import reconfigure
from tests.helpers import signed_in
from tests.hostapp import User
from tests.hostapp import db


def addresses(count: int, start: int = 0) -> list[str]:
    return [f"friend{number:03d}@example.com" for number in range(start, start + count)]


def shown(tree: Node) -> list[str]:
    items = tree.one("ul", cls="invite-list").children
    return [item.one("span", cls="kaleo-email").all_text() for item in items]


def get(client: FlaskClient, url: str) -> Node:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return parse(response.get_data(as_text=True))


def link(tree: Node, cls: str) -> str:
    return tree.one("a", cls=cls).attrs["href"].replace("&amp;", "&")


@pytest.fixture
def history(app: Flask, client: FlaskClient) -> list[str]:
    """Alice has sent 120 invitations, one a second apart: friend000 the oldest."""
    alice = signed_in(client, allocation=500)
    sent = addresses(120)
    with app.app_context():
        make_invitations(alice, sent)
    return sent


def test_first_page_is_the_newest_fifty_oldest_first(
    client: FlaskClient, history: list[str]
) -> None:
    tree = get(client, "/manage")
    assert shown(tree) == history[70:]  # kaleo's snippet appends the next at the end
    assert tree.find("a", cls="kaleo-newer") == [] and tree.find("a", cls="kaleo-newest") == []
    older = get(client, link(tree, "kaleo-older"))
    assert shown(older) == history[20:70]
    last = get(client, link(older, "kaleo-older"))
    assert shown(last) == history[:20]
    assert last.find("a", cls="kaleo-older") == []  # the end
    back = get(client, link(last, "kaleo-newer"))
    assert shown(back) == history[20:70]
    newest = get(client, link(back, "kaleo-newer"))
    assert shown(newest) == history[70:]
    assert newest.find("a", cls="kaleo-newer") == []  # nothing newer than the newest
    assert get(client, link(last, "kaleo-newest")).find("a", cls="kaleo-newest") == []


def test_pages_keep_the_pages_own_arguments(client: FlaskClient, history: list[str]) -> None:
    tree = get(client, "/manage?lang=en&kaleo_state=pending")
    query = parse_qs(urlsplit(link(tree, "kaleo-older")).query)
    assert query["lang"] == ["en"] and query["kaleo_state"] == ["pending"]
    assert set(query) == {"lang", "kaleo_state", "kaleo_before"}


def test_pages_keep_the_path_the_app_is_mounted_at(client: FlaskClient, history: list[str]) -> None:
    """Under a prefix (SCRIPT_NAME: a reverse proxy's /app), the links stay in it."""
    response = client.get("/manage", base_url="http://localhost/app")
    tree = parse(response.get_data(as_text=True))
    assert link(tree, "kaleo-older").startswith("/app/manage?kaleo_before=")
    assert tree.one("nav", cls="kaleo-sent-summary").find("a")[0].attrs["href"] == "/app/manage"


def test_counts_by_state_and_the_filter(
    app: Flask, client: FlaskClient, history: list[str], kaleo: Kaleo[User]
) -> None:
    with app.app_context():
        for address in history[:3]:
            expire(invitation_to(address).id)
        model = kaleo.JoinInvitation
        accepted = {"status": "accepted", "pending_email_key": None}
        db.session.execute(sa.update(model).where(model.email.in_(history[3:5])).values(accepted))
        db.session.commit()
    tree = get(client, "/manage")
    summary = tree.one("nav", cls="kaleo-sent-summary")
    counts = [a.all_text() for a in summary.find("a")]
    assert counts == ["All (120)", "115 pending", "2 accepted", "3 expired"]
    assert summary.one("a", **{"aria-current": "page"}).all_text() == "All (120)"
    expired = summary.one("a", **{"data-kaleo-state": "expired"}).attrs["href"]
    filtered = get(client, expired.replace("&amp;", "&"))
    assert shown(filtered) == history[:3]
    assert [li.classes for li in filtered.one("ul", cls="invite-list").children] == [
        {"sent", "expired"}
    ] * 3
    current = filtered.one("nav", cls="kaleo-sent-summary").one("a", **{"aria-current": "page"})
    assert current.all_text() == "3 expired"
    assert filtered.find("nav", cls="kaleo-sent-pager") == []
    assert shown(get(client, "/manage?kaleo_state=accepted")) == history[3:5]
    revoked = get(client, "/manage?kaleo_state=revoked")  # none: said, not "not yet"
    (empty,) = revoked.one("ul", cls="invite-list").children
    assert empty.classes == {"empty-invites"} and "this state" in empty.all_text()


@pytest.mark.parametrize(
    "query",
    [
        "kaleo_before=nonsense",
        "kaleo_after=%%%",
        "kaleo_before=" + keyset.encode("x", "y"),
        "kaleo_before=" + keyset.encode(1, 2),
        "kaleo_before=" + "A" * 600,
        "kaleo_state=nonsense",
        "kaleo_state=",
        "kaleo_before=&kaleo_after=",
    ],
)
def test_a_cursor_that_is_not_one_reads_the_first_page(
    client: FlaskClient, history: list[str], query: str
) -> None:
    assert shown(get(client, "/manage?" + query)) == history[70:]


@pytest.mark.all_backends
@pytest.mark.parametrize("direction", ["kaleo_before", "kaleo_after"])
def test_a_cursor_past_the_widest_id_reads_the_first_page(
    client: FlaskClient, history: list[str], direction: str
) -> None:
    """An id wider than the id column (which PostgreSQL refuses to compare) is no
    cursor: the first page, never a 500."""
    cursor = keyset.encode(utcnow(), 2**31)
    assert shown(get(client, f"/manage?{direction}={cursor}")) == history[70:]


def test_two_statements_whatever_the_history(app: Flask) -> None:
    counts = []
    for size, name in ((10, "small"), (500, "large")):
        with app.app_context():
            user = signed_in(app.test_client(), f"{name}@example.com", allocation=600)
            make_invitations(user, addresses(size), message="hi")
            user_id = user.id
            engine = db.engine
        template = '{% from "kaleo/macros.html" import invites_sent %}{{ invites_sent(user) }}'
        with app.test_request_context("/"):
            member = db.session.get(User, user_id)
            with Statements(engine) as recorder:
                markup = render_template_string(template, user=member)
        counts.append(recorder.count)
        assert len(parse(markup).one("ul", cls="invite-list").children) == min(size, 50)
    assert counts == [2, 2]


def test_ties_on_the_sending_time_are_kept_apart_by_id(
    app: Flask, client: FlaskClient, kaleo: Kaleo[User]
) -> None:
    alice = signed_in(client, allocation=200)
    with app.app_context():
        make_invitations(alice, addresses(60))
        model = kaleo.JoinInvitation
        db.session.execute(sa.update(model).values(sent_at=utcnow()))  # all at once
        db.session.commit()
    first = shown(get(client, "/manage"))
    second = shown(get(client, link(get(client, "/manage"), "kaleo-older")))
    assert sorted(first + second) == addresses(60) and len(set(first + second)) == 60


def test_short_list_keeps_kaleos_markup(app: Flask, client: FlaskClient) -> None:
    alice = signed_in(client, allocation=5)
    with app.app_context():
        make_invitations(alice, addresses(3))
    page = client.get("/").get_data(as_text=True)
    tree = parse(page)
    items = tree.one("ul", cls="invite-list").children
    assert [item.tag for item in items] == ["li"] * 3
    assert [item.classes for item in items] == [{"sent"}] * 3
    assert tree.find("nav", cls="kaleo-sent-pager") == []
    sent_list = page[page.index('<ul class="invite-list"') : page.index("</ul>")]
    assert "<form" not in sent_list and "<nav" not in sent_list


def test_nothing_sent_is_one_empty_item(client: FlaskClient) -> None:
    signed_in(client, allocation=5)
    tree = get(client, "/manage")
    (item,) = tree.one("ul", cls="invite-list").children
    assert item.classes == {"empty-invites"}
    assert tree.find("nav") == []


# -- the action menu ----------------------------------------------------------------


def menu_items(item: Node) -> list[str]:
    """What a row's menu offers: each form's action, and a Resend still to wait for."""
    actions = item.one("span", cls="kaleo-row-actions")
    found = [form.attrs["data-kaleo-action"] for form in actions.find("form")]
    if actions.find("span", cls="kaleo-resend-later"):
        found.insert(0, "resend-later")
    return found


def rows(tree: Node) -> dict[str, Node]:
    items = tree.one("ul", cls="invite-list").children
    return {item.one("span", cls="kaleo-email").all_text(): item for item in items}


def test_menu_items_by_state(app: Flask, client: FlaskClient, kaleo: Kaleo[User]) -> None:
    reconfigure(app, KALEO_RESEND_INTERVAL=dt.timedelta(0))
    alice = signed_in(client, allocation=10)
    with app.app_context():
        make_invitations(alice, ["sent@example.com"], "sent")
        make_invitations(alice, ["sending@example.com"], "sending")
        make_invitations(alice, ["link@example.com"], "sent", link_only=True)
        make_invitations(alice, ["expired@example.com"], "expired")
        make_invitations(alice, ["accepted@example.com"], "accepted")
    by_address = rows(get(client, "/manage"))
    offered = {address: menu_items(item) for address, item in by_address.items()}
    assert offered == {
        "sent@example.com": ["resend", "extend", "revoke"],
        "sending@example.com": ["extend", "revoke"],
        "link@example.com": ["resend", "extend", "revoke"],  # "Send by email"
        "expired@example.com": ["extend", "revoke"],
        "accepted@example.com": [],
    }
    send_by_email = by_address["link@example.com"].one("form", cls="kaleo-resend")
    assert send_by_email.one("button").all_text() == "Send by email"
    assert by_address["accepted@example.com"].find("button") == []


def carol_sent_ago(app: Flask, client: FlaskClient, ago: dt.timedelta | None) -> t.Any:
    """Alice, signed in, sent carol@example.com an invitation (``ago``, else just now)
    under a 10-minute cool-down; the invitation, read fresh."""
    reconfigure(app, KALEO_RESEND_INTERVAL=dt.timedelta(minutes=10))
    alice = signed_in(client, allocation=10)
    with app.app_context():
        make_invitations(alice, ["carol@example.com"], "sent")
        if ago is not None:
            set_sent_at(utcnow() - ago)
        return invitation_to("carol@example.com")


def set_sent_at(when: dt.datetime) -> None:
    db.session.execute(sa.update(current_kaleo().JoinInvitation).values(sent_at=when))
    db.session.commit()


def test_resend_waits_for_its_cool_down_and_says_until_when(
    app: Flask, client: FlaskClient
) -> None:
    sent_at = carol_sent_ago(app, client, None).sent_at
    item = rows(get(client, "/manage"))["carol@example.com"]
    assert menu_items(item) == ["resend-later", "extend", "revoke"]
    later = item.one("span", cls="kaleo-resend-later")
    button = later.one("button")
    assert "disabled" in button.attrs and button.attrs["type"] == "button"
    note = later.one(id=button.attrs["aria-describedby"])
    when = note.one("time").attrs["datetime"]
    assert dt.datetime.fromisoformat(when) == sent_at + dt.timedelta(minutes=10)
    assert re.fullmatch(r"Resend possible at \d{4}-\d\d-\d\d \d\d:\d\d UTC", note.all_text())

    with app.app_context():  # the cool-down over: Resend is offered
        set_sent_at(utcnow() - dt.timedelta(minutes=11))
    item = rows(get(client, "/manage"))["carol@example.com"]
    assert menu_items(item) == ["resend", "extend", "revoke"]
    assert item.find("span", cls="kaleo-resend-later") == []


def test_a_resend_just_done_answers_a_row_that_waits(app: Flask, client: FlaskClient) -> None:
    """The JSON answer's row (kaleo.js puts it in the list) no longer offers Resend."""
    invitation_id = carol_sent_ago(app, client, dt.timedelta(hours=1)).id
    response = client.post(
        f"/invites/resend/{invitation_id}",
        data={"csrf_token": csrf_token(client)},
        headers={**AJAX, "X-Kaleo-Actions": "1"},
    )
    assert response.json["status"] == "OK"
    (item,) = parse(response.json["html"]).find("li")
    assert menu_items(item) == ["resend-later", "extend", "revoke"]


def test_extend_offers_its_choices_in_one_select(app: Flask, client: FlaskClient) -> None:
    alice = signed_in(client, allocation=10)
    with app.app_context():
        make_invitations(alice, ["carol@example.com"], "sent")
    item = rows(get(client, "/manage"))["carol@example.com"]
    form = item.one("form", cls="kaleo-extend")
    options = [option.attrs["value"] for option in form.one("select", name="by").find("option")]
    assert options and all(value.endswith("d") for value in options)
    assert form.one("button").attrs["aria-label"] == "Extend the invitation to carol@example.com"


def test_sent_page_reader_without_a_user(app: Flask, kaleo: Kaleo[User]) -> None:
    with app.app_context():
        page = kaleo.sent_page(None)
    assert page.rows == [] and page.counts == {} and page.total == 0 and page.first
    with pytest.raises(ValueError):
        kaleo.sent_page(None, limit=0)
