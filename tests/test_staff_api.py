"""The staff JSON reads and the suspend/resume actions under ``/staff/api/``: their OK
shapes and keyset pages on every database, and the guard (401, 403, CSRF, a member
acting on another by id), bad parameters (400) and unknown users (404) on SQLite."""

from __future__ import annotations

import typing as t

import pytest
from flask import Flask
from flask.testing import FlaskClient

from flask_kaleo import Kaleo
from tests.helpers import AJAX
from tests.helpers import SetHook
from tests.helpers import Statements
from tests.helpers import assert_error
from tests.helpers import csrf_token
from tests.helpers import fresh
from tests.helpers import invitation_to
from tests.helpers import login
from tests.helpers import make_invitation
from tests.helpers import make_invitations
from tests.helpers import make_user
from tests.helpers import signed_in
from tests.hostapp import User
from tests.hostapp import db

API = "/invites/staff/api"
READS = ["members", "invitations", "tree/1", "audit", "accountability"]
ACTIONS = ["suspend", "resume"]


def is_staff(user: User) -> bool:
    return str(user.email).startswith("staff@")


class Staff(t.NamedTuple):
    client: FlaskClient
    token: str
    user: User

    def get(self, path: str, **query: str) -> t.Any:
        return self.client.get(f"{API}/{path}", query_string=query, headers=AJAX)

    def post(self, path: str, **form: str) -> t.Any:
        return self.client.post(
            f"{API}/{path}", data={"csrf_token": self.token, **form}, headers=AJAX
        )


@pytest.fixture
def staff(app: Flask, client: FlaskClient, manage_hook: SetHook) -> Staff:
    """A signed-in staff member's client."""
    manage_hook(is_staff)
    user = signed_in(client, "staff@example.com", allocation=None)
    return Staff(client, csrf_token(client), user)


def joined(kaleo: Kaleo[User], inviter: User, email: str) -> User:
    """A member who joined by accepting ``inviter``'s invitation."""
    invitation = make_invitation(inviter, email, inviter_label=inviter.email)
    member = User(email=email)
    db.session.add(member)
    kaleo.accept(invitation, member)
    db.session.commit()
    db.session.refresh(member)
    return member


def suspended(app: Flask, kaleo: Kaleo[User], email: str) -> bool:
    with app.app_context():
        member = kaleo.hooks.member(email)
        assert member is not None
        return kaleo.allocation(member).inviting_suspended


def every_page(staff: Staff, path: str, key: str, **query: str) -> list[list[t.Any]]:
    """The rows of each page of a keyset list, following ``after`` to the end."""
    pages: list[list[t.Any]] = []
    after: str | None = None
    while len(pages) < 20:
        body = staff.get(path, **query, **({"after": after} if after else {})).json
        assert body["status"] == "OK", body
        pages.append(body[key])
        after = body["after"]
        if after is None:
            return pages
    raise AssertionError("the pages never ended")


# -- the guard -------------------------------------------------------------------


@pytest.mark.parametrize("path", READS)
def test_reads_need_a_signed_in_staff_member(
    app: Flask, client: FlaskClient, manage_hook: SetHook, path: str
) -> None:
    assert_error(client.get(f"{API}/{path}"), 401, code="not_signed_in")
    manage_hook(is_staff)
    signed_in(client, "member@example.com")
    assert_error(client.get(f"{API}/{path}"), 403, code="not_allowed")
    response = client.post(f"{API}/{path}", data={"csrf_token": csrf_token(client)})
    assert_error(response, 405, code="method_not_allowed")


@pytest.mark.parametrize("action", ACTIONS)
def test_actions_need_staff_and_a_csrf_token(
    app: Flask, client: FlaskClient, manage_hook: SetHook, kaleo: Kaleo[User], action: str
) -> None:
    """A member can never suspend (or resume) another by id; nor can a forged post."""
    manage_hook(is_staff)
    with app.app_context():
        victim = make_user("victim@example.com", allocation=3)
        staff = make_user("staff@example.com")
        if action == "resume":
            kaleo.suspend_inviting(victim, "held", by="test")
        fresh(victim, staff)
    was = suspended(app, kaleo, "victim@example.com")
    form = {"user": str(victim.id), "reason": "mine now"}

    token = csrf_token(client)
    signed_out = client.post(f"{API}/{action}", data={**form, "csrf_token": token}, headers=AJAX)
    assert_error(signed_out, 401, code="not_signed_in")
    signed_in(client, "member@example.com")
    response = client.post(f"{API}/{action}", data={**form, "csrf_token": token}, headers=AJAX)
    assert_error(response, 403, code="not_allowed")
    login(client, staff)
    assert_error(client.post(f"{API}/{action}", data=form, headers=AJAX), 400, code="csrf")
    forged = {**form, "csrf_token": "forged"}
    assert_error(client.post(f"{API}/{action}", data=forged, headers=AJAX), 400, code="csrf")
    assert_error(client.get(f"{API}/{action}", headers=AJAX), 405, code="method_not_allowed")
    assert suspended(app, kaleo, "victim@example.com") == was


# -- members ---------------------------------------------------------------------


@pytest.mark.all_backends
def test_members_page_by_keyset_with_their_counters(
    app: Flask, staff: Staff, kaleo: Kaleo[User]
) -> None:
    with app.app_context():
        for n in (0, 1, 2, 4):
            make_user(f"member{n}@example.com", allocation=n)
        kaleo.suspend_inviting(make_user("member3@example.com", allocation=3), "spam", by="test")

    pages = every_page(staff, "members", "members", limit="2")
    assert [len(page) for page in pages] == [2, 2, 2]
    rows = {row["email"]: row for page in pages for row in page}
    assert set(rows) == {f"member{n}@example.com" for n in range(5)} | {"staff@example.com"}
    assert rows["member2@example.com"]["invites_allocated"] == 2
    assert rows["member2@example.com"]["invitations_remaining"] == 2
    assert rows["member3@example.com"]["inviting_suspended"] is True
    assert rows["member3@example.com"]["suspension_reason"] == "spam"
    assert set(rows["member0@example.com"]) == {
        "id",
        "email",
        "invites_allocated",
        "invites_sent",
        "invites_accepted",
        "invitations_remaining",
        "inviting_suspended",
        "suspension_reason",
    }
    found = staff.get("members", search="member1").json
    assert [row["email"] for row in found["members"]] == ["member1@example.com"]
    assert found["after"] is None


# -- invitations -----------------------------------------------------------------


@pytest.mark.all_backends
def test_invitations_filter_and_page(app: Flask, staff: Staff) -> None:
    with app.app_context():
        alice = make_user("alice@example.com", allocation=20)
        bob = make_user("bob@example.com", allocation=20)
        make_invitations(alice, [f"friend{n}@example.com" for n in range(5)])
        make_invitation(alice, "gone@example.com", "revoked")
        make_invitation(bob, "bobs@example.com")
        fresh(alice, bob)

    pages = every_page(staff, "invitations", "invitations", limit="2")
    assert [len(page) for page in pages] == [2, 2, 2, 1]
    everything = [row for page in pages for row in page]
    assert len({row["id"] for row in everything}) == 7
    row = next(row for row in everything if row["email"] == "friend0@example.com")
    assert row["state"] == "pending"
    assert row["inviter_id"] == alice.id
    assert set(row) == {
        "id",
        "state",
        "email",
        "inviter_id",
        "inviter",
        "sent_at",
        "expires_at",
        "delivered_at",
    }

    revoked = staff.get("invitations", state="revoked").json["invitations"]
    assert [row["email"] for row in revoked] == ["gone@example.com"]
    bobs = staff.get("invitations", **{"from": "BOB@example.com"}).json["invitations"]
    assert [row["email"] for row in bobs] == ["bobs@example.com"]
    by_id = staff.get("invitations", **{"from": str(bob.id)}).json["invitations"]
    assert by_id == bobs
    one = staff.get("invitations", address="friend3@example.com").json["invitations"]
    assert [row["email"] for row in one] == ["friend3@example.com"]
    future = staff.get("invitations", sent_from="2999-01-01").json
    assert future == {"status": "OK", "invitations": [], "after": None}
    past = staff.get("invitations", sent_until="2000-01-01T00:00:00+00:00").json
    assert past["invitations"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"state": "lost"}, "state"),
        ({"after": "not-a-cursor"}, "after"),
        ({"after": "WzFd"}, "after"),  # [1]: a cursor of the members' list
        ({"sent_from": "yesterday"}, "sent_from"),
        ({"sent_until": "2026-13-01"}, "sent_until"),
        ({"sent_from": "0001-01-01T00:00:00+14:00"}, "sent_from"),  # before year 1 in UTC
        ({"sent_until": "9999-12-31T23:59:59-14:00"}, "sent_until"),  # after 9999 in UTC
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"limit": "ten"}, "limit"),
    ],
)
def test_invitations_refuse_bad_parameters(
    app: Flask, staff: Staff, query: dict[str, str], field: str
) -> None:
    response = staff.get("invitations", **query)
    assert_error(response, 400, field, code="invalid_parameter")
    assert list(response.json["error_list"]) == [field]


def test_unknown_users_are_404(app: Flask, staff: Staff) -> None:
    assert_error(
        staff.get("invitations", **{"from": "nobody@example.com"}), 404, "from", code="unknown_user"
    )
    assert_error(staff.get("tree/nobody@example.com"), 404, "user", code="unknown_user")
    assert_error(staff.get("tree/99999"), 404, "user", code="unknown_user")
    assert_error(staff.get("audit", user="nobody@example.com"), 404, "user", code="unknown_user")
    for action in ACTIONS:
        response = staff.post(action, user="nobody@example.com", reason="x")
        assert_error(response, 404, "user", code="unknown_user")
        assert_error(staff.post(action), 404, "user", code="unknown_user")


# -- the tree --------------------------------------------------------------------


@pytest.mark.all_backends
def test_tree_gives_ancestors_and_subtree(app: Flask, staff: Staff, kaleo: Kaleo[User]) -> None:
    with app.app_context():
        root = make_user("root@example.com", allocation=5)
        alice = joined(kaleo, root, "alice@example.com")
        bob = joined(kaleo, alice, "bob@example.com")
        joined(kaleo, bob, "carol@example.com")
        fresh(alice)

    body = staff.get(f"tree/{alice.id}", depth="1").json
    assert body["status"] == "OK"
    assert body["user"]["email"] == "alice@example.com"
    assert [node["inviter"] for node in body["ancestors"]] == ["root@example.com"]
    assert [(node["label"], node["depth"]) for node in body["subtree"]] == [("bob@example.com", 1)]
    assert body["subtree"][0]["invitees"] == 1
    assert body["subtree"][0]["via"] == "invitation"
    assert body["subtree"][0]["deleted"] is False
    assert body["total_invitees"] == 1
    deeper = staff.get("tree/alice@example.com", depth="2").json["subtree"]
    assert [(node["label"], node["depth"]) for node in deeper] == [
        ("bob@example.com", 1),
        ("carol@example.com", 2),
    ]


@pytest.mark.parametrize("depth", ["0", "11", "-1", "two", "1.5", "9" * 20])
def test_tree_depth_is_1_to_10(app: Flask, staff: Staff, depth: str) -> None:
    assert_error(staff.get("tree/staff@example.com", depth=depth), 400, "depth")


# -- the audit log and accountability --------------------------------------------


@pytest.mark.all_backends
def test_audit_pages_newest_first_with_filters(
    app: Flask, staff: Staff, kaleo: Kaleo[User]
) -> None:
    with app.app_context():
        make_user("bob@example.com", allocation=3)
        alice = make_user("alice@example.com", allocation=3)
    assert staff.post("suspend", user="alice@example.com", reason="spam").json["status"] == "OK"
    assert staff.post("resume", user="alice@example.com").json["resumed"] is True
    assert staff.post("suspend", user="bob@example.com", reason="bots").json["status"] == "OK"

    first = staff.get("audit", limit="2").json
    assert [entry["action"] for entry in first["entries"]] == ["suspend", "resume"]
    assert first["entries"][0]["target"] == "bob@example.com"
    assert first["entries"][0]["actor"] == "staff@example.com"
    assert first["entries"][0]["reason"] == "bots"
    rest = staff.get("audit", limit="2", before=str(first["before"])).json
    assert [entry["target"] for entry in rest["entries"]] == ["alice@example.com"]
    assert rest["before"] is None

    about_alice = staff.get("audit", user=str(alice.id)).json["entries"]
    assert [entry["action"] for entry in about_alice] == ["resume", "suspend"]
    suspensions = staff.get("audit", action="suspend").json["entries"]
    assert [entry["target"] for entry in suspensions] == ["bob@example.com", "alice@example.com"]


@pytest.mark.parametrize(
    ("query", "field"),
    [({"action": "drop_table"}, "action"), ({"before": "x"}, "before"), ({"limit": "0"}, "limit")],
)
def test_audit_refuses_bad_parameters(
    app: Flask, staff: Staff, query: dict[str, str], field: str
) -> None:
    assert_error(staff.get("audit", **query), 400, field, code="invalid_parameter")


@pytest.mark.all_backends
def test_accountability_reports_each_inviter(app: Flask, staff: Staff, kaleo: Kaleo[User]) -> None:
    with app.test_request_context():
        alice = make_user("alice@example.com", allocation=9)
        invitees = []
        for n in range(3):
            invitation = kaleo.invite(alice, f"invitee{n}@example.com", send=False)
            invitees.append(User(email=f"invitee{n}@example.com"))
            db.session.add(invitees[-1])
            kaleo.accept(invitation, invitees[-1])
            db.session.commit()
        kaleo.suspend_inviting(invitees[0], "spam", by="test")
        fresh(alice)

    body = staff.get("accountability", sort="trouble", order="desc").json
    assert body["status"] == "OK"
    record = next(row for row in body["inviters"] if row["label"] == "alice@example.com")
    assert record == {
        "id": alice.id,
        "label": "alice@example.com",
        "sent": 3,
        "accepted": 3,
        "acceptance_rate": 1.0,
        "in_trouble": 1,
        "inviting_suspended": False,
    }
    assert staff.get("accountability", min_in_trouble="2").json["inviters"] == []
    assert staff.get("accountability", max_rate="0.7", min_sent="1").json["inviters"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"sort": "name"}, "sort"),
        ({"order": "up"}, "order"),
        ({"max_rate": "1.5"}, "max_rate"),
        ({"max_rate": "."}, "max_rate"),
        ({"max_rate": "nan"}, "max_rate"),
        ({"min_sent": "-1"}, "min_sent"),
        ({"min_in_trouble": "a"}, "min_in_trouble"),
    ],
)
def test_accountability_refuses_bad_parameters(
    app: Flask, staff: Staff, query: dict[str, str], field: str
) -> None:
    assert_error(staff.get("accountability", **query), 400, field, code="invalid_parameter")


# -- suspend and resume ----------------------------------------------------------


@pytest.mark.all_backends
def test_suspend_and_resume_act_as_the_signed_in_staff_member(
    app: Flask, staff: Staff, kaleo: Kaleo[User]
) -> None:
    with app.test_request_context():
        alice = make_user("alice@example.com", allocation=5)
        kaleo.invite(alice, "bob@example.com", send=False)
        child = joined(kaleo, alice, "child@example.com")
        joined(kaleo, child, "grandchild@example.com")
        fresh(alice)

    body = staff.post(
        "suspend", user=str(alice.id), reason="spam", revoke_pending="1", subtree="1"
    ).json
    assert body["status"] == "OK", body
    assert (body["suspended"], body["revoked_invitations"], body["revoked_links"]) == (2, 1, 0)
    assert body["user"]["inviting_suspended"] is True
    assert suspended(app, kaleo, "child@example.com")
    assert not suspended(app, kaleo, "grandchild@example.com")
    with app.app_context():
        assert invitation_to("bob@example.com").status == "revoked"
        entry = kaleo.audit_log(action="suspend", limit=1)[0]
        assert (entry.actor_label, entry.reason) == ("staff@example.com", "spam")

    body = staff.post("resume", user="alice@example.com").json
    assert (body["action"], body["resumed"]) == ("resume", True)
    assert body["user"]["inviting_suspended"] is False
    assert staff.post("resume", user="alice@example.com").json["resumed"] is False


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"reason": ""}, "reason"),
        ({"reason": "   "}, "reason"),
        ({"reason": "x" * 1001}, "reason"),
        ({"reason": "x", "subtree": "11"}, "subtree"),
        ({"reason": "x", "subtree": "one"}, "subtree"),
    ],
)
def test_suspend_refuses_bad_fields(
    app: Flask, staff: Staff, kaleo: Kaleo[User], form: dict[str, str], field: str
) -> None:
    with app.app_context():
        make_user("alice@example.com", allocation=5)
    response = staff.post("suspend", user="alice@example.com", **form)
    assert_error(response, 400, field, code="invalid_parameter")
    assert not suspended(app, kaleo, "alice@example.com")


# -- cost ------------------------------------------------------------------------


@pytest.mark.all_backends
def test_a_page_costs_the_same_statements_however_many_rows(
    app: Flask, staff: Staff, statements: Statements
) -> None:
    """Each read is a constant number of statements: a page of 2 and one of 40, the
    first page and a later one."""
    costs: dict[str, list[int]] = {}
    with app.app_context():
        alice = make_user("alice@example.com", allocation=100)
        make_invitations(alice, [f"friend{n}@example.com" for n in range(45)])
        for n in range(45):
            make_user(f"member{n}@example.com")
    for path, key in (("members", "members"), ("invitations", "invitations")):
        for limit in ("2", "40"):
            with statements:
                first = staff.get(path, limit=limit).json
            costs.setdefault(path, []).append(statements.count)
            with statements:
                staff.get(path, limit=limit, after=first["after"])
            costs[path].append(statements.count)
            assert len(first[key]) == int(limit)
    for path in ("audit", "accountability"):
        with statements:
            assert staff.get(path).json["status"] == "OK"
        costs[path] = [statements.count]
    assert {path: len(set(counts)) for path, counts in costs.items()} == dict.fromkeys(costs, 1)
    assert max(max(counts) for counts in costs.values()) <= 4, costs


@pytest.mark.all_backends
def test_the_allocation_endpoints_audit_the_staff_member(
    app: Flask, staff: Staff, kaleo: Kaleo[User]
) -> None:
    with app.app_context():
        make_user("alice@example.com", allocation=0)
    assert (
        staff.client.post(
            "/invites/staff/add", data={"csrf_token": staff.token, "amount": "2"}, headers=AJAX
        ).json["users_changed"]
        == 2
    )  # alice, and the staff member's default allocation of 0
    entries = staff.get("audit", action="grant").json["entries"]
    assert [(entry["actor"], entry["target"]) for entry in entries] == [("staff@example.com", "")]
    assert entries[0]["detail"]["users_changed"] == 2
