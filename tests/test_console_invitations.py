"""The console's invitations page: filters, keyset pages, the bulk actions (each row on
its own, audited with the staff member), who may reach them, and the CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import typing as t

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from flask_kaleo import Kaleo
from flask_kaleo.core import keyset
from flask_kaleo.models import utcnow
from flask_kaleo.web import console_invitations
from tests.helpers import SetHook
from tests.helpers import Statements
from tests.helpers import csrf_token
from tests.helpers import fresh
from tests.helpers import login
from tests.helpers import make_invitation
from tests.helpers import make_invitations
from tests.helpers import make_user
from tests.hostapp import User
from tests.hostapp import db

pytestmark = pytest.mark.all_backends

PAGE = "/invites/staff/invitations"
ACT = "/invites/staff/invitations/act"
CSV = "/invites/staff/invitations.csv"
ROW = re.compile(r'<tr id="kaleo-invitation-(\d+)"')
OLDER = re.compile(r'<a href="([^"]+)" rel="next">')
DAY = dt.timedelta(days=1)


class Staff(t.NamedTuple):
    client: FlaskClient
    user: User
    token: str
    inviter: User


def is_staff(user: User) -> bool:
    return str(user.email).startswith("staff@")


@pytest.fixture
def staff(app: Flask, client: FlaskClient, manage_hook: SetHook) -> Staff:
    """A signed-in staff member, and a member who sends invitations."""
    manage_hook(is_staff)
    with app.app_context():
        user = make_user("staff@example.com")
        inviter = make_user("alice@example.com", allocation=50)
        fresh(user)
    login(client, user)
    return Staff(client, user, csrf_token(client), inviter)


def ids_on(page: str) -> list[int]:
    return [int(found) for found in ROW.findall(page)]


def invite(inviter: User, email: str, state: str = "sent", **options: t.Any) -> int:
    return int(make_invitation(inviter, email, state, **options).id)


def act(staff: Staff, action: str, ids: list[object], **form: str) -> t.Any:
    data = {"csrf_token": staff.token, "action": action, "ids": [str(i) for i in ids], **form}
    return staff.client.post(ACT, data=data)


def status_of(app: Flask, invitation_id: int) -> tuple[str, dt.datetime | None]:
    with app.app_context():
        model = app.extensions["kaleo"].JoinInvitation
        row = db.session.execute(
            sa.select(model.status, model.expires_at).where(model.id == invitation_id)
        ).one()
        return row[0], row[1]


# -- the list -------------------------------------------------------------------------


def test_filters_by_state_inviter_address_and_dates(app: Flask, staff: Staff) -> None:
    now = utcnow()
    with app.app_context():
        bob = make_user("bob@example.com")
        old = invite(staff.inviter, "old@example.com", sent_at=now - 10 * DAY, expires_at=now + DAY)
        pending = invite(staff.inviter, "Pending@Example.com")
        revoked = invite(staff.inviter, "revoked@example.com", "revoked")
        lost = invite(bob, "lost@example.com", "undeliverable")
        accepted = invite(bob, "accepted@example.com", "accepted")
    client = staff.client
    assert ids_on(client.get(PAGE).text) == [accepted, lost, revoked, pending, old]
    assert ids_on(client.get(f"{PAGE}?state=pending").text) == [pending, old]
    assert ids_on(client.get(f"{PAGE}?state=undeliverable").text) == [lost]
    assert ids_on(client.get(f"{PAGE}?inviter=bob@example.com").text) == [accepted, lost]
    assert ids_on(client.get(f"{PAGE}?address=pending@example.com").text) == [pending]
    recent = (now - 2 * DAY).date().isoformat()
    assert old not in ids_on(client.get(f"{PAGE}?from={recent}").text)
    until = (now - 9 * DAY).date().isoformat()
    assert ids_on(client.get(f"{PAGE}?until={until}&state=pending").text) == [old]
    unknown = client.get(f"{PAGE}?inviter=nobody@example.com")
    assert unknown.status_code == 200 and ids_on(unknown.text) == []
    assert "No member has this address." in unknown.text


@pytest.mark.parametrize(
    "query", ["state=lost", "from=2026-13-01", "until=yesterday", "after=not-a-cursor"]
)
def test_a_bad_filter_or_cursor_is_a_400_page(staff: Staff, query: str) -> None:
    response = staff.client.get(f"{PAGE}?{query}")
    assert response.status_code == 400
    assert response.mimetype == "text/html"


@pytest.mark.all_backends
def test_a_cursor_past_the_widest_id_is_a_400_page(staff: Staff) -> None:
    """PostgreSQL refuses to compare an id wider than the column: a 400, not a 500."""
    cursor = keyset.encode(utcnow(), 2**31)
    assert staff.client.get(f"{PAGE}?after={cursor}").status_code == 400


def test_older_pages_hold_every_invitation_once(
    app: Flask, staff: Staff, statements: Statements
) -> None:
    """120 invitations, ten of them sent at the same instant: walking the Older links
    gives each exactly once, newest first, each page for the same statements."""
    with app.app_context():
        make_invitations(staff.inviter, [f"friend{n}@example.com" for n in range(110)])
        same = utcnow() - DAY
        for n in range(10):
            invite(staff.inviter, f"tie{n}@example.com", sent_at=same)
        model = app.extensions["kaleo"].JoinInvitation
        expected = list(
            db.session.scalars(sa.select(model.id).order_by(model.sent_at.desc(), model.id.desc()))
        )
    seen: list[int] = []
    counts = []
    url: str | None = PAGE
    while url is not None:
        with statements:
            response = staff.client.get(url)
        assert response.status_code == 200
        counts.append(statements.count)
        seen += ids_on(response.text)
        older = OLDER.search(response.text)
        url = older.group(1).replace("&amp;", "&") if older else None
    assert seen == expected and len(counts) == 3
    assert counts[0] == counts[1] == counts[2], counts


# -- the actions ----------------------------------------------------------------------


def test_resend_each_selected_row_and_audit_it(
    app: Flask, kaleo: Kaleo[User], staff: Staff, outbox: list[t.Any]
) -> None:
    with app.app_context():
        first = invite(staff.inviter, "one@example.com", sent_at=utcnow() - DAY)
        second = invite(staff.inviter, "two@example.com", sent_at=utcnow() - DAY)
        used = invite(staff.inviter, "used@example.com", "accepted")
    response = act(staff, "resend", [first, used, second], next=f"{PAGE}?state=pending")
    assert response.status_code == 303
    assert response.location == f"{PAGE}?state=pending"
    page = staff.client.get(response.location).text
    assert f"Sent again: invitations #{first}, #{second}." in page
    assert f"Not sent again, invitation #{used}:" in page
    assert sorted(m.recipients[0] for m in outbox) == ["one@example.com", "two@example.com"]
    with app.app_context():
        entries = kaleo.audit_log(action="resend")
        assert sorted(entry.invitation_id or 0 for entry in entries) == [first, second]
        assert {entry.actor_id for entry in entries} == {staff.user.id}


def test_revoke_asks_first_then_revokes_and_audits(
    app: Flask, kaleo: Kaleo[User], staff: Staff
) -> None:
    with app.app_context():
        pending = invite(staff.inviter, "pending@example.com")
        used = invite(staff.inviter, "used@example.com", "accepted")
    asked = act(staff, "revoke", [pending, used])
    assert asked.status_code == 200
    assert "Revoke these invitations?" in asked.text and 'name="confirm" value="yes"' in asked.text
    assert status_of(app, pending)[0] == "sent"
    done = act(staff, "revoke", [pending, used, 999999], confirm="yes")
    assert done.status_code == 303
    page = staff.client.get(done.location).text
    assert f"Revoked: invitation #{pending}." in page
    assert f"Not revoked, invitation #{used}:" in page
    assert "Not revoked, invitation #999999: There is no such invitation." in page
    assert status_of(app, pending)[0] == "revoked"
    assert status_of(app, used)[0] == "accepted"
    with app.app_context():
        (entry,) = kaleo.audit_log(action="revoke")
        assert (entry.invitation_id, entry.actor_id) == (pending, staff.user.id)


def test_extend_moves_the_expiry_by_the_days_chosen(
    app: Flask, kaleo: Kaleo[User], staff: Staff
) -> None:
    with app.app_context():
        pending = invite(staff.inviter, "pending@example.com")
    before = status_of(app, pending)[1]
    assert before is not None
    response = act(staff, "extend", [pending], days="3")
    assert response.status_code == 303
    assert "Extended: invitation #" in staff.client.get(response.location).text
    after = status_of(app, pending)[1]
    assert after is not None
    assert after.replace(tzinfo=None) - before.replace(tzinfo=None) == 3 * DAY
    with app.app_context():
        (entry,) = kaleo.audit_log(action="extend")
        assert (entry.invitation_id, entry.actor_id) == (pending, staff.user.id)


@pytest.mark.parametrize("elsewhere", ["https://evil.example/", "//evil.example/", "/\\evil"])
def test_the_redirect_after_an_action_stays_on_the_console(
    app: Flask, staff: Staff, elsewhere: str
) -> None:
    with app.app_context():
        pending = invite(staff.inviter, "pending@example.com")
    response = act(staff, "extend", [pending], days="1", next=elsewhere)
    assert (response.status_code, response.location) == (303, PAGE)


@pytest.mark.parametrize(
    ("ids", "form"),
    [
        ([str(n) for n in range(1, 102)], {"action": "resend"}),
        (["12", "abc"], {"action": "resend"}),
        (["-1"], {"action": "resend"}),
        (["1.5"], {"action": "revoke", "confirm": "yes"}),
        (["1"], {"action": "delete"}),
        (["1"], {"action": "extend", "days": "365"}),
    ],
)
def test_bad_ids_or_choices_are_a_400_and_change_nothing(
    app: Flask, staff: Staff, ids: list[str], form: dict[str, str]
) -> None:
    with app.app_context():
        pending = invite(staff.inviter, "pending@example.com")
    data = {"csrf_token": staff.token, "ids": [*ids, str(pending)], **form}
    response = staff.client.post(ACT, data=data)
    assert response.status_code == 400
    assert status_of(app, pending)[0] == "sent"


def test_a_member_gets_403_and_changes_nothing(
    app: Flask, client: FlaskClient, staff: Staff
) -> None:
    with app.app_context():
        pending = invite(staff.inviter, "pending@example.com")
    login(client, staff.inviter)  # the inviter, not staff: not even their own invitation
    token = csrf_token(client)
    for action in ("revoke", "extend", "resend"):
        data = {"csrf_token": token, "action": action, "ids": [str(pending)], "confirm": "yes"}
        assert client.post(ACT, data={**data, "days": "1"}).status_code == 403
    for url in (PAGE, CSV):
        assert client.get(url).status_code == 403
    assert status_of(app, pending)[0] == "sent"
    anonymous = app.test_client()
    assert anonymous.get(PAGE).status_code == 401
    assert anonymous.get(CSV).status_code == 401


def test_a_post_without_the_csrf_token_is_a_400(app: Flask, staff: Staff) -> None:
    with app.app_context():
        pending = invite(staff.inviter, "pending@example.com")
    data = {"action": "revoke", "ids": [str(pending)], "confirm": "yes"}
    assert staff.client.post(ACT, data=data).status_code == 400
    assert staff.client.post(ACT, data={**data, "csrf_token": "forged"}).status_code == 400
    assert status_of(app, pending)[0] == "sent"


# -- the CSV export -------------------------------------------------------------------


def test_csv_has_every_column_and_neutralises_formulas(app: Flask, staff: Staff) -> None:
    with app.app_context():
        plain = invite(staff.inviter, "plain@example.com")
        formula = invite(staff.inviter, "=cmd@example.com", "revoked", inviter_label="+SUM(A1:A9)")
        invite(make_user("bob@example.com"), "bob.friend@example.com")
    response = staff.client.get(f"{CSV}?inviter=alice@example.com")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["id", "email", "inviter", "state", "sent_at", "expires_at", "delivered_at"]
    by_id = {int(row[0]): row for row in rows[1:]}
    assert sorted(by_id) == sorted([plain, formula])
    assert by_id[formula][1:4] == ["'=cmd@example.com", "'+SUM(A1:A9)", "revoked"]
    assert by_id[plain][1:4] == ["plain@example.com", f"user {staff.inviter.id}", "pending"]
    assert dt.datetime.fromisoformat(by_id[plain][4])


@pytest.mark.parametrize(
    ("value", "cell"),
    [("=1+1", "'=1+1"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"), ("a=b", "a=b"), (None, "")],
)
def test_a_cell_starting_a_formula_is_quoted(value: object, cell: str) -> None:
    assert console_invitations.cell(value) == cell


def test_csv_reads_one_statement_per_page(
    app: Flask, staff: Staff, statements: Statements, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages of 10: 35 invitations are four page reads, streamed one after another."""
    monkeypatch.setattr(console_invitations, "CSV_PAGE", 10)
    with app.app_context():
        make_invitations(staff.inviter, [f"friend{n}@example.com" for n in range(35)])
    with statements:
        response = staff.client.get(CSV)
        lines = response.text.splitlines()
    assert len(lines) == 36
    reads = [s for s in statements.statements if "kaleo_join_invitation" in s]
    assert len(reads) == 4, reads
