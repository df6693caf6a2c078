"""The staff JSON endpoints, the manage permission and the invite permission."""

from __future__ import annotations

import typing as t
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from flask_kaleo import InvitingNotAllowed
from flask_kaleo import Kaleo
from tests.helpers import AJAX
from tests.helpers import BROWSER
from tests.helpers import SetHook
from tests.helpers import Statements
from tests.helpers import assert_error
from tests.helpers import csrf_token
from tests.helpers import expire
from tests.helpers import fresh
from tests.helpers import invitation_count
from tests.helpers import invitation_to
from tests.helpers import login
from tests.helpers import make_user
from tests.helpers import post_invite
from tests.helpers import signed_in
from tests.helpers import stat_row
from tests.hostapp import User
from tests.hostapp import db

StaffPost = t.Callable[..., t.Any]


def is_staff(user: User) -> bool:
    return str(user.email).startswith("staff@")


@pytest.fixture
def staff(app: Flask, client: FlaskClient, manage_hook: SetHook) -> StaffPost:
    """A signed-in staff member; returns a function posting to a staff endpoint."""
    manage_hook(is_staff)
    signed_in(client, "staff@example.com", allocation=None)
    token = csrf_token(client)

    def post(action: str, headers: dict[str, str] | None = None, **form: str) -> t.Any:
        return client.post(
            f"/invites/staff/{action}", data={"csrf_token": token, **form}, headers=headers or AJAX
        )

    return post


# -- the guard -----------------------------------------------------------------


@pytest.mark.parametrize("action", ["topoff", "add"])
def test_not_signed_in_gets_401_json(app: Flask, client: FlaskClient, action: str) -> None:
    token = csrf_token(client)
    response = client.post(
        f"/invites/staff/{action}", data={"csrf_token": token, "amount": "3"}, headers=BROWSER
    )
    assert_error(response, 401, code="not_signed_in")
    assert_error(client.get("/invites/staff/stat/1", headers=BROWSER), 401, code="not_signed_in")


def test_manage_permission_denies_by_default(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        member = make_user("staff@example.com", allocation=5)
        other = make_user("bob@example.com", allocation=0)
        fresh(member, other)
    login(client, member)
    token = csrf_token(client)
    for action in ("topoff", "add"):
        response = client.post(
            f"/invites/staff/{action}", data={"csrf_token": token, "amount": "7"}, headers=AJAX
        )
        assert_error(response, 403, code="not_allowed")
    assert_error(client.get(f"/invites/staff/stat/{other.id}"), 403, code="not_allowed")
    with app.app_context():
        assert stat_row(other.id) == (0, 0, 0)
        assert stat_row(member.id) == (5, 0, 0)


def test_manage_permission_decorator_decides(
    app: Flask, client: FlaskClient, manage_hook: SetHook
) -> None:
    manage_hook(is_staff)
    signed_in(client, "plain@example.com", allocation=None)
    response = client.post(
        "/invites/staff/add", data={"csrf_token": csrf_token(client), "amount": "1"}, headers=AJAX
    )
    assert_error(response, 403, code="not_allowed")


def test_a_second_extension_has_hooks_of_its_own(app_ctx: None, kaleo: Kaleo[User]) -> None:
    boss = make_user("boss@example.com")
    worker = make_user("worker@example.com")
    other = Kaleo(
        db=db,
        user_model=User,
        join_invitation_model=kaleo.JoinInvitation,
        invitation_stat_model=kaleo.InvitationStat,
    )
    other.manage_permission(lambda user: user.email == "boss@example.com")
    assert other.hooks.has_manage_permission(boss)
    assert not other.hooks.has_manage_permission(worker)
    assert not other.hooks.has_manage_permission(None)
    assert not kaleo.hooks.has_manage_permission(boss)  # the app's extension still denies everyone


def test_csrf_is_enforced(app: Flask, client: FlaskClient, staff: StaffPost) -> None:
    with app.app_context():
        bob = make_user("bob@example.com", allocation=0)
    for action in ("topoff", "add"):
        response = client.post(f"/invites/staff/{action}", data={"amount": "3"}, headers=AJAX)
        assert_error(response, 400, code="csrf")
        response = client.post(
            f"/invites/staff/{action}",
            data={"amount": "3", "csrf_token": "forged"},
            headers=BROWSER,
        )
        assert_error(response, 400, code="csrf")  # JSON even for a browser
    with app.app_context():
        assert stat_row(bob.id) == (0, 0, 0)


@pytest.mark.settings(WTF_CSRF_CHECK_DEFAULT=False)
def test_csrf_is_enforced_without_global_protection(
    app: Flask, client: FlaskClient, staff: StaffPost
) -> None:
    response = client.post("/invites/staff/topoff", data={"amount": "3"}, headers=AJAX)
    assert_error(response, 400, code="csrf")
    assert staff("topoff", amount="3").json["status"] == "OK"


def test_wrong_method_is_a_json_405(app: Flask, client: FlaskClient, staff: StaffPost) -> None:
    response = client.get("/invites/staff/topoff")
    assert_error(response, 405, code="method_not_allowed")
    assert response.headers["Allow"] == "POST"
    response = client.delete("/invites/staff/stat/1", headers=AJAX)
    assert_error(response, 405, code="method_not_allowed")  # not CSRF's 400: CSRFProtect runs first
    assert response.headers["Allow"] == "GET"


# -- input ---------------------------------------------------------------------


BAD_AMOUNTS = [None, "", "abc", "-1", "1.5", "1e3", "0x10", "1001", "٣", "9" * 40, "+3"]


def test_bad_amounts_are_refused(app: Flask, staff: StaffPost) -> None:
    with app.app_context():
        bob = make_user("bob@example.com", allocation=1)
    for amount in BAD_AMOUNTS:
        form = {} if amount is None else {"amount": amount}
        for action in ("topoff", "add"):
            response = staff(action, **form)
            assert_error(response, 400, "amount", code="invalid_amount")
            assert response.json["error_codes"] == {"amount": ["invalid_amount"]}
    with app.app_context():
        assert stat_row(bob.id) == (1, 0, 0)


def test_the_bound_is_a_thousand(app: Flask, staff: StaffPost) -> None:
    assert_error(staff("add", amount="1001"), 400, "amount", code="invalid_amount")
    assert staff("add", amount="1000").json["status"] == "OK"


def test_unknown_user_is_a_404_error(app: Flask, staff: StaffPost, client: FlaskClient) -> None:
    response = staff("topoff", amount="3", user="<b>nobody</b>@example.com")
    # The text is what is tested here: the unknown address is named, escaped.
    assert_error(
        response, 404, "user", "&lt;b&gt;nobody&lt;/b&gt;@example.com", code="unknown_user"
    )
    assert_error(staff("add", amount="3", user="999999"), 404, "user", code="unknown_user")
    assert_error(
        client.get("/invites/staff/stat/nobody@example.com"), 404, "user", code="unknown_user"
    )
    assert_error(client.get("/invites/staff/stat/not-a-number"), 404, "user", code="unknown_user")


@pytest.mark.all_backends
@pytest.mark.settings(TESTING=False, KALEO_SITE_URL="https://example.org")
@pytest.mark.parametrize(
    "value", ["bob\x00@example.com", "bob@example.com\x00", "1\x00", "bob\x07@example.com"]
)
def test_a_user_with_a_nul_is_a_404_error(
    app: Flask, staff: StaffPost, client: FlaskClient, value: str
) -> None:
    """PostgreSQL refuses NUL in a query's text: such a value never reaches it."""
    with app.app_context():
        bob = make_user("bob@example.com", allocation=1)
    for action in ("add", "topoff"):
        response = staff(action, amount="3", user=value)
        assert_error(response, 404, field="user", code="unknown_user")
    path = "/invites/staff/stat/" + quote(value)
    assert_error(client.get(path, headers=AJAX), 404, field="user", code="unknown_user")
    with app.app_context():
        assert stat_row(bob.id) == (1, 0, 0)


# -- what they do ----------------------------------------------------------------


def test_topoff_everyone(app: Flask, staff: StaffPost) -> None:
    with app.app_context():
        low = make_user("low@example.com", allocation=1)
        high = make_user("high@example.com", allocation=9)
        unlimited = make_user("free@example.com", allocation=-1)
        bare = make_user("bare@example.com")  # no stat row: the default allocation, 0
        fresh(low, high, unlimited, bare)
    response = staff("topoff", amount="4")
    assert response.status_code == 200
    # low, bare and the staff member (no row either) were raised
    assert response.json == {"status": "OK", "action": "topoff", "amount": 4, "users_changed": 3}
    with app.app_context():
        assert stat_row(low.id) == (4, 0, 0)
        assert stat_row(high.id) == (9, 0, 0)
        assert stat_row(unlimited.id) == (-1, 0, 0)
        assert stat_row(bare.id) == (4, 0, 0)


def test_topoff_one_user_by_email_or_id(app: Flask, staff: StaffPost) -> None:
    with app.app_context():
        bob = make_user("bob@example.com", allocation=1)
        eve = make_user("eve@example.com", allocation=1)
        fresh(bob, eve)
    response = staff("topoff", amount="3", user="BOB@example.com")
    assert response.json["users_changed"] == 1
    assert response.json["user"] == {
        "id": bob.id,
        "email": "bob@example.com",
        "invites_allocated": 3,
        "invites_sent": 0,
        "invites_accepted": 0,
        "invitations_remaining": 3,
        "pending": 0,
        "expired": 0,
        "inviting_suspended": False,
    }
    assert staff("topoff", amount="5", user=str(eve.id)).json["user"]["invitations_remaining"] == 5
    with app.app_context():
        assert stat_row(bob.id) == (3, 0, 0)
        assert stat_row(eve.id) == (5, 0, 0)


def test_add_means_add_invites_and_everyone_means_every_finite_allocation(
    app: Flask, staff: StaffPost
) -> None:
    with app.app_context():
        bob = make_user("bob@example.com", allocation=2)
        eve = make_user("eve@example.com", allocation=0)
        unlimited = make_user("free@example.com", allocation=-1)
        fresh(bob, eve, unlimited)
    # Like `flask kaleo add-invites`: only those with none left (eve and the staff member).
    assert staff("add", amount="10").json["users_changed"] == 2
    # Like `--all`: every finite allocation (bob, eve and the staff member).
    assert staff("add", amount="1", everyone="1").json["users_changed"] == 3
    # One user: eve has some left now, so only `everyone` adds to hers.
    assert staff("add", amount="1", user="eve@example.com").json["users_changed"] == 0
    response = staff("add", amount="1", user="eve@example.com", everyone="true")
    assert response.json["users_changed"] == 1
    assert response.json["user"]["invites_allocated"] == 12
    assert staff("add", amount="0").json["status"] == "OK"
    with app.app_context():
        assert stat_row(bob.id) == (3, 0, 0)
        assert stat_row(eve.id) == (12, 0, 0)
        assert stat_row(unlimited.id) == (-1, 0, 0)


def test_stat_counts_pending_and_expired(app: Flask, client: FlaskClient, staff: StaffPost) -> None:
    alice = signed_in(client, allocation=5)
    for address in ("one@example.com", "two@example.com", "three@example.com"):
        assert post_invite(client, address).json["status"] == "OK"
    with app.app_context():
        expire(invitation_to("two@example.com").id)
        member = db.session.scalars(sa.select(User).where(User.email == "staff@example.com")).one()
    login(client, member)
    response = client.get("/invites/staff/stat/alice@example.com")
    assert response.json == {
        "status": "OK",
        "id": alice.id,
        "email": "alice@example.com",
        "invites_allocated": 5,
        "invites_sent": 3,
        "invites_accepted": 0,
        "invitations_remaining": 2,
        "pending": 2,
        "expired": 1,
        "inviting_suspended": False,
    }
    assert client.get(f"/invites/staff/stat/{alice.id}").json["pending"] == 2


@pytest.mark.all_backends
def test_bulk_endpoint_is_set_based(app: Flask, staff: StaffPost, statements: Statements) -> None:
    with app.app_context():
        for number in range(30):
            make_user(f"user{number}@example.com", allocation=number % 3)
    with statements:
        assert staff("topoff", amount="2").json["users_changed"] == 21
    writes = [statement for statement, _ in statements.starting("UPDATE", "INSERT")]
    assert len([s for s in writes if "kaleo_invitation_stat" in s.split("(")[0]]) == 2, writes
    assert len([s for s in writes if "INTO kaleo_audit_entry" in s]) == 1, writes
    assert len(writes) == 3, writes


# -- who may invite --------------------------------------------------------------


def test_invite_permission_is_consulted_everywhere(
    app: Flask, client: FlaskClient, invite_hook: SetHook, kaleo: Kaleo[User]
) -> None:
    invite_hook(lambda user: not user.email.startswith("muted@"))
    with app.app_context():
        muted = make_user("muted@example.com", allocation=3)
        alice = make_user("alice@example.com", allocation=3)
        fresh(muted, alice)
    login(client, muted)
    page = client.get("/").get_data(as_text=True)
    assert "kaleo-invite-form" not in page
    assert "You cannot send invitations." in page
    assert "(3)" in page  # the allocation is still shown
    with app.test_request_context():
        assert not kaleo.hooks.has_invite_permission(muted)
        assert kaleo.hooks.has_invite_permission(alice) and kaleo.invitations_remaining(alice)
        with pytest.raises(InvitingNotAllowed):
            kaleo.invite(muted, "friend@example.com")
        assert stat_row(muted.id) == (3, 0, 0)
        assert invitation_count() == 0
    login(client, alice)
    page = client.get("/").get_data(as_text=True)
    assert "kaleo-invite-form" in page


def test_invite_endpoint_refuses_someone_the_hook_denies(
    app: Flask, client: FlaskClient, invite_hook: SetHook
) -> None:
    muted = signed_in(client, "muted@example.com")
    token = csrf_token(client)
    invite_hook(lambda user: False)
    response = post_invite(client, "friend@example.com", token=token)
    assert_error(response, 200, code="not_allowed")
    with app.app_context():
        assert stat_row(muted.id) == (3, 0, 0)
