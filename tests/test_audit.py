"""The audit log: each staff action writes its entry in its own transaction (and a
failure after the entry rolls both back), members acting on their own invitations
write none, and ``kaleo.audit_log`` filters newest first, a keyset page at a time."""

from __future__ import annotations

import datetime as dt
import json
import typing as t

import pytest
from flask import Flask

from flask_kaleo import NEVER
from flask_kaleo import UNLIMITED
from flask_kaleo import Kaleo
from flask_kaleo.core import audit
from flask_kaleo.models import utcnow
from tests.helpers import Statements
from tests.helpers import invitation_to
from tests.helpers import make_user
from tests.helpers import stat_row
from tests.hostapp import User
from tests.hostapp import db

pytestmark = [
    pytest.mark.all_backends,
    pytest.mark.settings(KALEO_SITE_URL="http://localhost", KALEO_RESEND_INTERVAL=dt.timedelta(0)),
]


@pytest.fixture
def ctx(app: Flask) -> t.Iterator[None]:
    with app.test_request_context():
        yield


def only_entry(kaleo: Kaleo[User]) -> t.Any:
    [entry] = kaleo.audit_log()
    return entry


def detail(entry: t.Any) -> dict[str, t.Any]:
    return t.cast(dict[str, t.Any], json.loads(entry.detail))


def test_set_allocation_keeps_the_old_and_new_and_who(kaleo: Kaleo[User], ctx: None) -> None:
    alice, staff = make_user("alice@example.com", 3), make_user("staff@example.com")
    kaleo.set_allocation(alice, 8, by=staff)
    entry = only_entry(kaleo)
    assert (entry.action, entry.actor_id, entry.actor_label) == (
        "set_allocation",
        staff.id,
        "staff@example.com",
    )
    assert (entry.target_id, entry.target_label) == (alice.id, "alice@example.com")
    assert entry.detail == '{"new": 8, "old": 3}'  # sorted keys: one text per change
    assert entry.at <= utcnow() and entry.reason is None
    kaleo.set_allocation(alice, UNLIMITED, by="command line")
    kaleo.set_allocation(alice, 2)
    newest, middle, _ = kaleo.audit_log()
    assert (middle.actor_id, middle.actor_label, detail(middle)) == (
        None,
        "command line",
        {"old": 8, "new": -1},
    )
    assert (newest.actor_label, detail(newest)) == ("", {"old": -1, "new": 2})


def test_grants_say_how_much_and_to_whom(kaleo: Kaleo[User], ctx: None) -> None:
    alice, bob = make_user("alice@example.com", 0), make_user("bob@example.com", 4)
    assert kaleo.grant(2, by="command line") == 1
    assert kaleo.grant(5, user=bob, top_off=True, by="command line") == 1
    assert kaleo.grant(UNLIMITED, user=alice, by="command line") == 1
    assert kaleo.grant(1, everyone=True) == 1  # alice is unlimited now
    everyone, unlimited, top_off, add = kaleo.audit_log(action="grant")
    assert (add.target_id, add.target_label) == (None, "")
    assert detail(add) == {"mode": "add", "amount": 2, "everyone": False, "users_changed": 1}
    assert (top_off.target_id, detail(top_off)["mode"]) == (bob.id, "top_off")
    assert detail(unlimited) == {
        "mode": "unlimited",
        "amount": -1,
        "everyone": False,
        "users_changed": 1,
    }
    assert detail(everyone)["everyone"] is True


def test_revoke_resend_and_extend_are_recorded_when_staff_act(
    kaleo: Kaleo[User], ctx: None
) -> None:
    alice, staff = make_user("alice@example.com", 5), make_user("staff@example.com")
    for address in ("carol@example.com", "dave@example.com"):
        kaleo.invite(alice, address)
    carol = invitation_to("carol@example.com")
    kaleo.resend(carol)  # the member's own: not staff's
    kaleo.extend(carol, by=dt.timedelta(days=1))
    kaleo.revoke(invitation_to("dave@example.com"))
    assert kaleo.audit_log() == []
    kaleo.resend(carol, by=staff)
    kaleo.extend(carol, by=dt.timedelta(days=1), actor=staff)
    kaleo.revoke(carol, by=staff)
    revoke, extend, resend = kaleo.audit_log()
    for entry in (revoke, extend, resend):
        ids = (entry.actor_id, entry.target_id, entry.invitation_id)
        assert ids == (staff.id, alice.id, carol.id)
    assert [revoke.action, extend.action, resend.action] == ["revoke", "extend", "resend"]
    assert detail(revoke) == {"email": "carol@example.com"}
    assert detail(extend)["beyond_bounds"] is False
    assert stat_row(alice.id) == (5, 0, 0)


def test_a_link_revoked_by_staff_says_what_went_back(kaleo: Kaleo[User], ctx: None) -> None:
    alice = make_user("alice@example.com", 5)
    link = kaleo.create_link(alice, 3)
    kaleo.revoke(link, by="command line")
    entry = only_entry(kaleo)
    assert (entry.action, entry.link_id, entry.target_id) == ("revoke_link", link.id, alice.id)
    assert detail(entry) == {"given_back": 3}


def test_an_extension_past_the_bounds_is_recorded_whoever_asked(
    kaleo: Kaleo[User], ctx: None, manage_hook: t.Any
) -> None:
    manage_hook(lambda user: user.email == "alice@example.com")
    alice = make_user("alice@example.com", 5)
    invitation = kaleo.invite(alice, "carol@example.com")
    expires = invitation.expires_at
    assert expires is not None
    kaleo.extend(invitation, by=dt.timedelta(days=1))  # within the bounds: not recorded
    assert kaleo.audit_log() == []
    kaleo.extend(invitation, by=dt.timedelta(days=90))
    kaleo.extend(invitation, to=NEVER)
    never, far = kaleo.audit_log()
    assert (far.actor_id, far.action, detail(far)["beyond_bounds"]) == (alice.id, "extend", True)
    assert detail(far)["from"] == (expires + dt.timedelta(days=1)).isoformat()
    assert detail(never)["to"] == "never"


def write_then_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the next audit entry's INSERT succeed, then the action fail after it."""
    write = audit.write

    def failing(*args: t.Any) -> None:
        write(*args)
        raise RuntimeError("after the audit entry")

    monkeypatch.setattr(audit, "write", failing)


@pytest.mark.parametrize("action", ["set_allocation", "grant", "revoke", "resend", "resume"])
def test_the_entry_rolls_back_with_its_action(
    kaleo: Kaleo[User], ctx: None, monkeypatch: pytest.MonkeyPatch, action: str
) -> None:
    alice = make_user("alice@example.com", 3)
    invitation = kaleo.invite(alice, "carol@example.com")
    digest = invitation.token_digest
    if action == "resume":
        kaleo.suspend_inviting(alice, "to resume")
    before = len(kaleo.audit_log())
    write_then_fail(monkeypatch)
    steps: dict[str, t.Callable[[], object]] = {
        "set_allocation": lambda: kaleo.set_allocation(alice, 9, by="staff"),
        "grant": lambda: kaleo.grant(4, user=alice, everyone=True, by="staff"),
        "revoke": lambda: kaleo.revoke(invitation, by="staff"),
        "resend": lambda: kaleo.resend(invitation, by="staff"),
        "resume": lambda: kaleo.resume_inviting(alice, by="staff"),
    }
    with pytest.raises(RuntimeError, match="after the audit entry"):
        steps[action]()
    db.session.expire_all()
    assert len(kaleo.audit_log()) == before
    assert stat_row(alice.id) == (3, 1, 0)
    stored = invitation_to("carol@example.com")
    assert (stored.status, stored.token_digest) == ("sent", digest)
    assert kaleo.allocation(alice).inviting_suspended is (action == "resume")


def test_one_insert_whatever_the_action(
    kaleo: Kaleo[User], ctx: None, statements: Statements
) -> None:
    alice = make_user("alice@example.com", 3)
    for count in (5, 40):
        for number in range(count):
            make_user(f"user{count}-{number}@example.com", 1)
        with statements:
            kaleo.grant(2, everyone=True, by="staff")
        inserts = [s for s, _ in statements.starting("INSERT") if "kaleo_audit_entry" in s]
        assert len(inserts) == 1
        if count == 5:
            first = statements.count
    assert statements.count == first
    with statements:
        kaleo.set_allocation(alice, 9, by="staff")
    assert len([s for s, _ in statements.starting("INSERT") if "kaleo_audit_entry" in s]) == 1
    assert statements.count <= 6, statements.statements


def test_the_log_filters_newest_first_a_keyset_page_at_a_time(
    kaleo: Kaleo[User], ctx: None
) -> None:
    alice, bob = make_user("alice@example.com", 1), make_user("bob@example.com", 1)
    staff = make_user("staff@example.com")
    start = utcnow()
    for allocation in range(2, 7):
        kaleo.set_allocation(alice, allocation, by=staff)
    kaleo.set_allocation(bob, 3, by="command line")
    kaleo.suspend_inviting(bob, "spam", by=staff)
    everything = kaleo.audit_log()
    ids = [entry.id for entry in everything]
    assert ids == sorted(ids, reverse=True) and len(ids) == 7
    assert [e.action for e in kaleo.audit_log(target=bob)] == ["suspend", "set_allocation"]
    assert len(kaleo.audit_log(actor=staff)) == 6
    assert [e.target_label for e in kaleo.audit_log(action="suspend")] == ["bob@example.com"]
    assert kaleo.audit_log(since=utcnow() + dt.timedelta(seconds=1)) == []
    assert len(kaleo.audit_log(since=start, until=utcnow() + dt.timedelta(seconds=1))) == 7
    pages, before = [], None
    while True:
        page = kaleo.audit_log(target=alice, before=before, limit=2)
        if not page:
            break
        pages.append([detail(entry)["new"] for entry in page])
        before = page[-1].id
    assert pages == [[6, 5], [4, 3], [2]]
    with pytest.raises(ValueError, match="limit"):
        kaleo.audit_log(limit=0)
