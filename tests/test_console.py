"""The staff console through the Flask client, on the three databases: who reaches it
(401, 403, 200), CSRF on every form, no console action by id for a member (IDOR), bad
ids and cursors, a constant number of statements a page, and what each form does."""

from __future__ import annotations

import typing as t

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from flask_kaleo import Kaleo
from tests.helpers import BROWSER
from tests.helpers import SetHook
from tests.helpers import Statements
from tests.helpers import csrf_token
from tests.helpers import current_kaleo
from tests.helpers import fresh
from tests.helpers import invitation_to
from tests.helpers import login
from tests.helpers import make_invitation
from tests.helpers import make_user
from tests.helpers import parse
from tests.helpers import stat_row
from tests.hostapp import User
from tests.hostapp import db

pytestmark = [
    pytest.mark.all_backends,
    # production mode: CSRFProtect and the permission hooks as a deployed site has them
    pytest.mark.settings(TESTING=False, KALEO_SITE_URL="https://example.org"),
]

CONSOLE = "/invites/staff"
PAGES = ("/", "/members", "/members/{id}", "/invitations", "/accountability", "/audit")
ACTIONS = {
    "allocation": {"how": "set", "amount": "9"},
    "suspend": {"reason": "spam", "revoke_pending": "yes", "subtree": "1"},
    "resume": {},
}
JSON = {"Accept": "application/json"}


def is_staff(user: User) -> bool:
    return str(user.email).startswith("staff@")


@pytest.fixture
def people(app: Flask, manage_hook: SetHook) -> dict[str, User]:
    """Staff, and bob, a member with a pending invitation to carol (counted as sent)."""
    manage_hook(is_staff)
    with app.app_context():
        staff = make_user("staff@example.com", allocation=5)
        bob = make_user("bob@example.com", allocation=4)
        make_invitation(bob, "carol@example.com")
        stat = current_kaleo().InvitationStat
        db.session.execute(sa.update(stat).where(stat.user_id == bob.id).values(invites_sent=1))
        db.session.commit()
        fresh(staff, bob)
    return {"staff": staff, "bob": bob}


@pytest.fixture
def staff_client(client: FlaskClient, people: dict[str, User]) -> FlaskClient:
    login(client, people["staff"])
    return client


def post(client: FlaskClient, path: str, token: str | None = None, **form: str) -> t.Any:
    data = dict(form, **({"csrf_token": token} if token else {}))
    return client.post(CONSOLE + path, data=data, headers=BROWSER)


def audit_count(app: Flask) -> int:
    with app.app_context():
        table = sa.table("kaleo_audit_entry")
        return int(db.session.scalar(sa.select(sa.func.count()).select_from(table)) or 0)


def snapshot(app: Flask, bob: User) -> tuple[object, ...]:
    """What a console action could change: bob's counters and suspension, the
    invitation's state, and the audit log."""
    with app.app_context():
        stat = app.extensions["kaleo"].InvitationStat.__table__
        suspended = db.session.scalar(
            sa.select(stat.c.inviting_suspended_at).where(stat.c.user_id == bob.id)
        )
        state = invitation_to("carol@example.com").status
        return (stat_row(bob.id), suspended, state, audit_count(app))


def counters(app: Flask, user: User) -> tuple[int, int, int]:
    with app.app_context():
        row = stat_row(user.id)
    assert row is not None
    return row


def text(node: t.Any) -> str:
    return " ".join(node.all_text().split())


def bring_in(app: Flask, kaleo: Kaleo[User], inviter: User, email: str) -> User:
    """A member who joined by accepting ``inviter``'s invitation (the referral edge)."""
    with app.app_context():
        invitation = make_invitation(inviter, email)
        user = make_user(email)
        kaleo.accept(invitation, user)
        db.session.commit()
        fresh(user)
    return user


# -- who reaches it ----------------------------------------------------------------


@pytest.mark.settings(KALEO_LOGIN_URL="/login")
@pytest.mark.parametrize("page", PAGES)
def test_signed_out_gets_a_401_page_with_the_login_link(
    client: FlaskClient, people: dict[str, User], page: str
) -> None:
    for headers in (BROWSER, JSON):  # a page whatever the caller accepts
        response = client.get(CONSOLE + page.format(id=people["bob"].id), headers=headers)
        assert response.status_code == 401
        assert response.mimetype == "text/html"
        html = parse(response.get_data(as_text=True))
        assert text(html.one("a", href="/login")) == "Log in"
        assert not html.find("nav", cls="kaleo-console-nav")


@pytest.mark.parametrize("page", PAGES)
def test_a_member_gets_a_403_page(client: FlaskClient, people: dict[str, User], page: str) -> None:
    login(client, people["bob"])
    response = client.get(CONSOLE + page.format(id=people["bob"].id), headers=BROWSER)
    assert response.status_code == 403
    html = parse(response.get_data(as_text=True))
    assert text(html.one("h1")) == "Forbidden"
    assert not html.find("nav", cls="kaleo-console-nav")
    assert "bob@example.com" not in response.get_data(as_text=True)


@pytest.mark.parametrize("page", PAGES)
def test_staff_get_every_page(
    staff_client: FlaskClient, people: dict[str, User], page: str
) -> None:
    response = staff_client.get(CONSOLE + page.format(id=people["bob"].id), headers=BROWSER)
    assert response.status_code == 200
    html = parse(response.get_data(as_text=True))
    nav = html.one("nav", cls="kaleo-console-nav")
    assert [text(a) for a in nav.find("a")] == [
        "Overview",
        "Members",
        "Invitations",
        "Accountability",
        "Audit log",
    ]
    assert len(nav.find("a", **{"aria-current": "page"})) == 1
    assert 'href="/invites/static/kaleo.css"' in response.get_data(as_text=True)


# -- forms: CSRF and IDOR -----------------------------------------------------------


@pytest.mark.parametrize("check_default", [True, False], ids=["csrfprotect", "console"])
@pytest.mark.parametrize("action", ACTIONS)
def test_every_console_post_needs_the_csrf_token(
    app: Flask,
    staff_client: FlaskClient,
    people: dict[str, User],
    action: str,
    check_default: bool,
) -> None:
    """Whether CSRFProtect checks every post or leaves it to the view, a post
    without the token (or with a forged one) is a 400 page and changes nothing."""
    app.config["WTF_CSRF_CHECK_DEFAULT"] = check_default
    bob = people["bob"]
    before = snapshot(app, bob)
    for token in (None, "forged"):
        response = post(staff_client, f"/members/{bob.id}/{action}", token, **ACTIONS[action])
        assert response.status_code == 400
        assert "The form has expired" in response.get_data(as_text=True)
    assert snapshot(app, bob) == before


@pytest.mark.parametrize("action", ACTIONS)
def test_a_member_reaches_no_console_action_by_id(
    app: Flask, client: FlaskClient, people: dict[str, User], action: str
) -> None:
    """A member with a valid token, on their own id, staff's or anyone's: 403."""
    bob, staff = people["bob"], people["staff"]
    login(client, bob)
    token = csrf_token(client)
    before = snapshot(app, bob)
    for target in (bob.id, staff.id, 999999):
        response = post(client, f"/members/{target}/{action}", token, **ACTIONS[action])
        assert response.status_code == 403
    assert snapshot(app, bob) == before


@pytest.mark.parametrize(
    "path",
    [
        "/members/999999",
        "/members/abc",
        "/members/bob@example.com",
        "/members/99999999999999999999999",
        "/members/4611686018427387904",  # 2**62: beyond a 32-bit id column
        "/members/%00",
    ],
)
def test_unknown_member_is_a_404_page(staff_client: FlaskClient, path: str) -> None:
    response = staff_client.get(CONSOLE + path, headers=BROWSER)
    assert response.status_code == 404
    assert "There is no member with this id." in response.get_data(as_text=True)


@pytest.mark.parametrize("action", ACTIONS)
def test_an_action_on_an_unknown_member_is_a_404_page(
    app: Flask, staff_client: FlaskClient, people: dict[str, User], action: str
) -> None:
    before = snapshot(app, people["bob"])
    token = csrf_token(staff_client)
    response = post(staff_client, f"/members/999999/{action}", token, **ACTIONS[action])
    assert response.status_code == 404
    assert snapshot(app, people["bob"]) == before


@pytest.mark.parametrize(
    "path",
    [
        "/members?after=not-a-cursor",
        "/members?after=%00%ff",
        "/members?after=WzExODA1OTE2MjA3MTc0MTEzMDM0MjRd",  # [2**70]: no id is so large
        "/members/{id}?depth=9",
        "/members/{id}?depth=x",
        "/accountability?sort=email",
        "/accountability?order=sideways",
        "/accountability?filter=everyone",
        "/audit?before=x",
        "/audit?before=-3",
        "/audit?since=yesterday",
        "/audit?action=drop_table",
    ],
)
def test_bad_parameters_are_a_400_page(
    staff_client: FlaskClient, people: dict[str, User], path: str
) -> None:
    response = staff_client.get(CONSOLE + path.format(id=people["bob"].id), headers=BROWSER)
    assert response.status_code == 400
    assert response.mimetype == "text/html"


def test_the_audit_log_until_the_last_day_there_is(staff_client: FlaskClient) -> None:
    response = staff_client.get(CONSOLE + "/audit?until=9999-12-31", headers=BROWSER)
    assert response.status_code == 200


def test_a_nul_in_the_search_finds_no_member(staff_client: FlaskClient) -> None:
    response = staff_client.get(CONSOLE + "/members?q=bob%00", headers=BROWSER)
    assert response.status_code == 200
    assert "bob@example.com" not in response.get_data(as_text=True)


def test_a_cursor_past_the_last_member_is_an_empty_page(staff_client: FlaskClient) -> None:
    after = "WzQ2MTE2ODYwMTg0MjczODc5MDRd"  # [2**62]
    response = staff_client.get(f"{CONSOLE}/members?after={after}", headers=BROWSER)
    assert response.status_code == 200
    assert text(parse(response.get_data(as_text=True)).one("tbody")) == "No members found."


def test_a_get_to_an_action_is_a_405(staff_client: FlaskClient, people: dict[str, User]) -> None:
    response = staff_client.get(f"{CONSOLE}/members/{people['bob'].id}/suspend", headers=BROWSER)
    assert response.status_code == 405


# -- what the forms do ----------------------------------------------------------


def follow(client: FlaskClient, response: t.Any) -> str:
    """The page a post's 303 leads to."""
    assert response.status_code == 303
    return client.get(response.headers["Location"], headers=BROWSER).get_data(as_text=True)


def flashes(page: str) -> list[tuple[str, str]]:
    return [
        (sorted(p.classes - {"kaleo-flash"})[0], text(p))
        for p in parse(page).find("p", cls="kaleo-flash")
    ]


def test_allocation_set_add_top_off(
    app: Flask, staff_client: FlaskClient, people: dict[str, User]
) -> None:
    bob = people["bob"]
    token = csrf_token(staff_client)
    page = f"/members/{bob.id}"
    response = post(staff_client, f"{page}/allocation", token, how="set", amount="9")
    assert response.headers["Location"].endswith(CONSOLE + page)
    assert flashes(follow(staff_client, response)) == [
        ("kaleo-flash-success", "Allocation of bob@example.com set.")
    ]
    assert counters(app, bob)[0] == 9
    post(staff_client, f"{page}/allocation", token, how="add", amount="3")
    assert counters(app, bob)[0] == 12
    post(staff_client, f"{page}/allocation", token, how="top_off", amount="20")
    allocated, sent, _ = counters(app, bob)
    assert allocated - sent == 20
    with app.app_context():
        entries = get_kaleo_audit(app, bob)
    assert [entry.action for entry in entries] == ["grant", "grant", "set_allocation"]
    assert {entry.actor_label for entry in entries} == {"staff@example.com"}


def get_kaleo_audit(app: Flask, user: User) -> list[t.Any]:
    kaleo: Kaleo[User] = app.extensions["kaleo"]
    return kaleo.audit_log(target=user)


@pytest.mark.parametrize(
    "form",
    [
        {"how": "set", "amount": "-2"},
        {"how": "set", "amount": "ten"},
        {"how": "add", "amount": "-1"},
        {"how": "multiply", "amount": "2"},
        {"how": "set", "amount": "0"},  # below the one invitation bob has sent
    ],
)
def test_a_refused_allocation_says_why_and_changes_nothing(
    app: Flask, staff_client: FlaskClient, people: dict[str, User], form: dict[str, str]
) -> None:
    bob = people["bob"]
    before = snapshot(app, bob)
    response = post(staff_client, f"/members/{bob.id}/allocation", csrf_token(staff_client), **form)
    [(kind, _)] = flashes(follow(staff_client, response))
    assert kind == "kaleo-flash-error"
    assert snapshot(app, bob) == before


def test_suspend_with_reason_and_revoke_pending_then_resume(
    app: Flask, kaleo: Kaleo[User], staff_client: FlaskClient, people: dict[str, User]
) -> None:
    bob = people["bob"]
    token = csrf_token(staff_client)
    page = f"/members/{bob.id}"
    response = post(staff_client, f"{page}/suspend", token, reason="spam", revoke_pending="yes")
    shown = follow(staff_client, response)
    assert flashes(shown) == [
        ("kaleo-flash-success", "1 member suspended. Invitations revoked: 1; links revoked: 0.")
    ]
    assert "spam" in text(parse(shown).one("p", cls="kaleo-suspension"))
    with app.app_context():
        stat = kaleo.allocation(bob)
        assert stat.inviting_suspended and stat.suspension_reason == "spam"
        assert invitation_to("carol@example.com").status == "revoked"
        [entry] = kaleo.audit_log(target=bob)
        assert (entry.action, entry.reason, entry.actor_label) == (
            "suspend",
            "spam",
            "staff@example.com",
        )
    assert flashes(staff_client.get(CONSOLE + page, headers=BROWSER).get_data(as_text=True)) == []

    response = post(staff_client, f"{page}/resume", token)
    assert flashes(follow(staff_client, response)) == [
        ("kaleo-flash-success", "bob@example.com may invite again.")
    ]
    with app.app_context():
        assert not kaleo.allocation(bob).inviting_suspended
        assert [entry.action for entry in kaleo.audit_log(target=bob)] == ["resume", "suspend"]


@pytest.mark.parametrize(
    "form",
    [{"reason": "  "}, {"reason": "x" * 1001}, {"reason": "spam", "subtree": "4"}],
)
def test_a_suspension_needs_a_reason_and_a_depth_from_0_to_3(
    app: Flask, staff_client: FlaskClient, people: dict[str, User], form: dict[str, str]
) -> None:
    bob = people["bob"]
    before = snapshot(app, bob)
    response = post(staff_client, f"/members/{bob.id}/suspend", csrf_token(staff_client), **form)
    [(kind, _)] = flashes(follow(staff_client, response))
    assert kind == "kaleo-flash-error"
    assert snapshot(app, bob) == before


def test_the_subtree_is_suspended_to_the_depth_asked(
    app: Flask, kaleo: Kaleo[User], staff_client: FlaskClient, people: dict[str, User]
) -> None:
    bob = people["bob"]
    dan = bring_in(app, kaleo, bob, "dan@example.com")
    eve = bring_in(app, kaleo, dan, "eve@example.com")
    token = csrf_token(staff_client)
    post(staff_client, f"/members/{bob.id}/suspend", token, reason="ring", subtree="1")
    with app.app_context():
        assert kaleo.allocation(bob).inviting_suspended
        assert kaleo.allocation(dan).inviting_suspended
        assert not kaleo.allocation(eve).inviting_suspended


# -- what the pages show ----------------------------------------------------------


def test_member_page_shows_the_chain_and_the_tree_by_level(
    app: Flask, kaleo: Kaleo[User], staff_client: FlaskClient, people: dict[str, User]
) -> None:
    bob = people["bob"]
    dan = bring_in(app, kaleo, bob, "dan@example.com")
    eve = bring_in(app, kaleo, dan, "eve@example.com")
    page = parse(
        staff_client.get(f"{CONSOLE}/members/{dan.id}", headers=BROWSER).get_data(as_text=True)
    )
    chain = page.one("ol", cls="kaleo-chain")
    assert chain.one("a").attrs["href"] == f"{CONSOLE}/members/{bob.id}"
    assert [a.attrs["href"] for a in page.one("ul", cls="kaleo-tree").find("a")] == [
        f"{CONSOLE}/members/{eve.id}"
    ]
    top = parse(
        staff_client.get(f"{CONSOLE}/members/{bob.id}", headers=BROWSER).get_data(as_text=True)
    )
    assert [text(a) for a in top.one("ul", cls="kaleo-tree").find("a")] == ["dan@example.com"]
    deeper = staff_client.get(f"{CONSOLE}/members/{bob.id}?depth=2", headers=BROWSER)
    tree = parse(deeper.get_data(as_text=True)).one("section", id="invitees").children[-1]
    assert [text(a) for a in tree.find("a")] == ["dan@example.com", "eve@example.com"]
    assert len(tree.find("ul", cls="kaleo-tree")) == 1  # eve nested under dan


def test_the_suspend_form_revokes_what_is_pending_unless_unticked(
    staff_client: FlaskClient, people: dict[str, User]
) -> None:
    """A suspension should stop the member's links too, so the box starts ticked."""
    response = staff_client.get(f"{CONSOLE}/members/{people['bob'].id}", headers=BROWSER)
    box = parse(response.get_data(as_text=True)).one("input", name="revoke_pending")
    assert "checked" in box.attrs


def test_member_page_says_how_many_invitees_it_leaves_out(
    app: Flask,
    kaleo: Kaleo[User],
    staff_client: FlaskClient,
    people: dict[str, User],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past the tree's fan-out cap, each list ends with how many more there are."""
    from flask_kaleo.core import subtree

    monkeypatch.setattr(subtree, "FANOUT", 2)
    bob = people["bob"]
    dan = bring_in(app, kaleo, bob, "dan@example.com")
    for name in ("eve", "fay", "gil"):
        bring_in(app, kaleo, bob, f"{name}@example.com")
    for name in ("hal", "ivy", "joe"):
        bring_in(app, kaleo, dan, f"{name}@example.com")
    response = staff_client.get(f"{CONSOLE}/members/{bob.id}?depth=2", headers=BROWSER)
    tree = parse(response.get_data(as_text=True)).one("section", id="invitees")
    top = tree.children[-1]
    assert [text(a) for a in top.find("a")] == [
        "dan@example.com",
        "hal@example.com",
        "ivy@example.com",
        "eve@example.com",
    ]
    assert [text(li) for li in top.find("li", cls="kaleo-muted")] == [
        "and 1 more",
        "and 2 more",
    ]


def test_members_page_searches_and_pages_by_cursor(
    app: Flask, staff_client: FlaskClient, people: dict[str, User]
) -> None:
    with app.app_context():
        for n in range(55):
            make_user(f"many{n:02}@example.com")
    first = parse(
        staff_client.get(f"{CONSOLE}/members?q=many", headers=BROWSER).get_data(as_text=True)
    )
    rows = first.one("table", cls="kaleo-members").one("tbody").find("tr")
    assert len(rows) == 50
    next_link = first.one("a", rel="next").attrs["href"]
    second = parse(staff_client.get(next_link, headers=BROWSER).get_data(as_text=True))
    shown = [text(a) for a in second.one("tbody").find("a")]
    assert shown == [f"many{n:02}@example.com" for n in range(50, 55)]
    assert not second.find("a", rel="next")


# -- a constant number of statements a page ------------------------------------------


def grow(app: Flask, kaleo: Kaleo[User], bob: User, staff: User, n: int) -> None:
    """Give bob ``n`` invitees (each with an invitation of their own), invitations,
    and audit entries about him."""
    for i in range(n):
        invitee = bring_in(app, kaleo, bob, f"invitee{n}-{i}@example.com")
        with app.app_context():
            make_invitation(invitee, f"second{n}-{i}@example.com")
            kaleo.set_allocation(bob, 50 + i, by=staff)


def page_cost(client: FlaskClient, statements: Statements, path: str) -> int:
    with statements:
        response = client.get(path, headers=BROWSER)
    assert response.status_code == 200
    return statements.count


@pytest.mark.parametrize(
    "page",
    [
        "/members",
        "/members/{id}",
        "/members/{id}?depth=3",
        "/accountability",
        "/accountability?filter=low",
        "/audit",
        "/audit?member=bob@example.com",
    ],
)
def test_each_page_costs_the_same_statements_whatever_the_rows(
    app: Flask,
    kaleo: Kaleo[User],
    staff_client: FlaskClient,
    people: dict[str, User],
    statements: Statements,
    page: str,
) -> None:
    bob, staff = people["bob"], people["staff"]
    path = CONSOLE + page.format(id=bob.id)
    grow(app, kaleo, bob, staff, 2)
    few = page_cost(staff_client, statements, path)
    grow(app, kaleo, bob, staff, 12)
    many = page_cost(staff_client, statements, path)
    assert few == many
