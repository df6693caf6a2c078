"""The staff's ``flask kaleo`` commands (suspend, resume, tree, list, revoke, resend,
set-allocation, audit) through Flask's CLI runner, on every database; their usage
errors on SQLite."""

from __future__ import annotations

import json
import typing as t

import pytest
from click.testing import Result
from flask import Flask

from flask_kaleo import InvitingSuspended
from flask_kaleo import Kaleo
from tests.helpers import age
from tests.helpers import fresh
from tests.helpers import invitation_to
from tests.helpers import make_invitation
from tests.helpers import make_user
from tests.helpers import stat_row
from tests.hostapp import User
from tests.hostapp import db

Run = t.Callable[..., Result]
SERVER = pytest.mark.settings(SERVER_NAME="beta.example.org", PREFERRED_URL_SCHEME="https")


@pytest.fixture
def run(app: Flask) -> Run:
    """``flask kaleo <args>``, outside any app context, as a shell runs it."""
    runner = app.test_cli_runner()

    def invoke(*args: str) -> Result:
        result = runner.invoke(args=["kaleo", *args])
        with app.app_context():
            db.session.expire_all()
        return result

    return invoke


def audit_rows(kaleo: Kaleo[User]) -> list[tuple[str, str, str]]:
    """(action, actor, target) of every audit entry, oldest first."""
    entries = reversed(kaleo.audit_log(limit=100))
    return [(entry.action, entry.actor_label, entry.target_label) for entry in entries]


def joined(kaleo: Kaleo[User], inviter: User, email: str) -> User:
    """A member who joined by accepting ``inviter``'s invitation."""
    invitation = make_invitation(inviter, email, inviter_label=inviter.email)
    member = User(email=email)
    db.session.add(member)
    kaleo.accept(invitation, member)
    db.session.commit()
    db.session.refresh(member)
    return member


def suspended(kaleo: Kaleo[User], email: str) -> bool:
    member = kaleo.hooks.member(email)
    assert member is not None
    return kaleo.allocation(member).inviting_suspended


# -- set-allocation --------------------------------------------------------------


@pytest.mark.all_backends
def test_set_allocation_sets_and_audits(app: Flask, run: Run, kaleo: Kaleo[User]) -> None:
    with app.test_request_context():
        alice = make_user("alice@example.com", allocation=2)
        kaleo.invite(alice, "x@example.com", send=False)

    result = run("set-allocation", "ALICE@example.com", "7")
    assert result.exit_code == 0, result.output
    assert result.output == "Set the allocation of alice@example.com to 7 (6 left).\n"
    result = run("set-allocation", str(alice.id), "unlimited")
    assert (
        result.output == "Set the allocation of alice@example.com to unlimited (unlimited left).\n"
    )
    assert run("set-allocation", "alice@example.com", "-1").exit_code == 0

    result = run("set-allocation", "alice@example.com", "0")
    assert result.exit_code == 1
    assert "already sent 1 invitation: the allocation cannot be less" in result.output
    with app.app_context():
        assert stat_row(alice.id) == (-1, 1, 0)
        assert audit_rows(kaleo)[-1] == ("set_allocation", "command line", "alice@example.com")


@pytest.mark.parametrize("value", ["", "abc", "1.5", "-2", "1e3", "1000001", "٣"])
def test_set_allocation_refuses_what_is_no_allocation(app: Flask, run: Run, value: str) -> None:
    with app.app_context():
        alice = make_user("alice@example.com", allocation=3)
    result = run("set-allocation", "alice@example.com", value)
    assert result.exit_code == 2, result.output
    assert "kaleo set-allocation [OPTIONS]" in result.output.split("Usage: ")[1]
    assert "or 'unlimited'" in result.output
    with app.app_context():
        assert stat_row(alice.id) == (3, 0, 0)


@pytest.mark.parametrize(
    "args",
    [
        ("set-allocation", "nobody@example.com", "3"),
        ("suspend", "nobody@example.com", "--reason", "spam"),
        ("resume", "999999"),
        ("tree", "nobody@example.com"),
        ("list", "--from", "nobody@example.com"),
        ("audit", "--user", "nobody@example.com"),
    ],
)
def test_an_unknown_member_is_a_usage_error(run: Run, args: tuple[str, ...]) -> None:
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert "no user with the email address or id" in result.output


# -- the allocation commands name their actor ------------------------------------


@pytest.mark.all_backends
def test_allocation_commands_are_audited_as_the_command_line(
    app: Flask, run: Run, kaleo: Kaleo[User]
) -> None:
    with app.app_context():
        make_user("alice@example.com", allocation=0)
    assert run("add-invites", "2").exit_code == 0
    assert run("topoff-invites", "5", "--user", "alice@example.com").exit_code == 0
    assert run("infinite-invites", "--user", "alice@example.com").exit_code == 0
    with app.app_context():
        assert [(action, actor) for action, actor, _ in audit_rows(kaleo)] == [
            ("grant", "command line")
        ] * 3


# -- suspend and resume ----------------------------------------------------------


@pytest.mark.all_backends
def test_suspend_stops_inviting_and_resume_restores_it(
    app: Flask, run: Run, kaleo: Kaleo[User]
) -> None:
    with app.app_context():
        alice = make_user("alice@example.com", allocation=5)

    result = run("suspend", "alice@example.com", "--reason", "sent spam")
    assert result.exit_code == 0, result.output
    assert result.output == "Suspended 1 member.\n"
    with app.app_context():
        assert suspended(kaleo, "alice@example.com")
        with pytest.raises(InvitingSuspended):
            kaleo.invite(db.session.get_one(User, alice.id), "bob@example.com")
        entries = kaleo.audit_log(action="suspend")
        assert [(e.actor_label, e.target_label, e.reason) for e in entries] == [
            ("command line", "alice@example.com", "sent spam")
        ]

    result = run("resume", str(alice.id))
    assert result.output == "alice@example.com may invite again.\n"
    assert run("resume", "alice@example.com").output == "alice@example.com was not suspended.\n"
    with app.app_context():
        assert not suspended(kaleo, "alice@example.com")
        assert [row[0] for row in audit_rows(kaleo)] == ["suspend", "resume"]


@pytest.mark.all_backends
def test_suspend_revokes_pending_invitations_and_links(
    app: Flask, run: Run, kaleo: Kaleo[User]
) -> None:
    with app.test_request_context():
        alice = make_user("alice@example.com", allocation=5)
        kaleo.invite(alice, "bob@example.com", send=False)
        kaleo.invite(alice, "carol@example.com", send=False)
        make_invitation(alice, "dave@example.com", "accepted")
        fresh(alice)

    result = run("suspend", "alice@example.com", "--reason", "spam", "--revoke-pending")
    assert result.exit_code == 0, result.output
    assert result.output == "Suspended 1 member.\nRevoked 2 invitations and 0 links.\n"
    with app.app_context():
        assert invitation_to("bob@example.com").status == "revoked"
        assert invitation_to("dave@example.com").status == "accepted"
        assert stat_row(alice.id) == (5, 0, 0)  # both given back


@pytest.mark.all_backends
def test_suspend_a_subtree(app: Flask, run: Run, kaleo: Kaleo[User]) -> None:
    with app.app_context():
        root = make_user("root@example.com", allocation=5)
        child = joined(kaleo, root, "child@example.com")
        joined(kaleo, child, "grandchild@example.com")

    result = run("suspend", "root@example.com", "--reason", "ring", "--subtree", "1")
    assert result.output == "Suspended 2 members.\n"
    with app.app_context():
        assert suspended(kaleo, "child@example.com")
        assert not suspended(kaleo, "grandchild@example.com")


@pytest.mark.parametrize(
    "args",
    [
        ("suspend", "alice@example.com"),  # no reason
        ("suspend", "alice@example.com", "--reason", "  "),
        ("suspend", "alice@example.com", "--reason", "x" * 1001),
        ("suspend", "alice@example.com", "--reason", "x", "--subtree", "0"),
        ("suspend", "alice@example.com", "--reason", "x", "--subtree", "11"),
        ("suspend", "alice@example.com", "--reason", "x", "--subtree", "two"),
        ("resume",),
        ("tree", "alice@example.com", "--depth", "0"),
        ("tree", "alice@example.com", "--depth", "11"),
        ("list", "--state", "lost"),
        ("list", "--limit", "0"),
        ("list", "--after", "not-a-cursor"),
        ("revoke", "0"),
        ("revoke", "abc"),
        ("revoke", "424242"),
        ("resend", "424242"),
        ("audit", "--action", "delete_everything"),
        ("audit", "--limit", "-1"),
        ("audit", "--before", "x"),
    ],
)
def test_bad_arguments_exit_2_with_usage(
    app: Flask, run: Run, kaleo: Kaleo[User], args: tuple[str, ...]
) -> None:
    with app.app_context():
        make_user("alice@example.com", allocation=5)
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert f"kaleo {args[0]} [OPTIONS]" in result.output.split("Usage: ")[1]
    with app.app_context():
        assert not suspended(kaleo, "alice@example.com")


# -- tree ------------------------------------------------------------------------


@pytest.mark.all_backends
def test_tree_draws_the_chain_up_and_the_subtree(app: Flask, run: Run, kaleo: Kaleo[User]) -> None:
    with app.app_context():
        root = make_user("root@example.com", allocation=5)
        mid = joined(kaleo, root, "mid@example.com")
        alice = joined(kaleo, mid, "alice@example.com")
        bob = joined(kaleo, alice, "bob@example.com")
        joined(kaleo, bob, "dan@example.com")
        joined(kaleo, alice, "carol@example.com")
        fresh(alice)

    result = run("tree", "alice@example.com", "--depth", "1")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Invited by: mid@example.com < root@example.com"
    assert lines[1] == "alice@example.com (brought in 2)"
    assert [line.split(" (")[0] for line in lines[2:]] == [
        "  bob@example.com",
        "  carol@example.com",
    ]
    assert "(brought in 1; joined " in lines[2] and lines[2].endswith(" by invitation)")

    deep = run("tree", str(alice.id), "--depth", "2").output.splitlines()
    assert [line.split(" (")[0] for line in deep[2:]] == [
        "  bob@example.com",
        "    dan@example.com",
        "  carol@example.com",
    ]
    assert run("tree", "root@example.com").output.startswith(
        "Invited by: nobody (joined on their own)\nroot@example.com (brought in 1)\n"
    )
    body = json.loads(run("tree", "alice@example.com", "--json").output)
    assert [node["label"] for node in body["ancestors"]] == ["alice@example.com", "mid@example.com"]
    assert [node["label"] for node in body["subtree"]] == [
        "bob@example.com",
        "dan@example.com",
        "carol@example.com",
    ]


@pytest.mark.backends("postgresql", "mariadb")  # SQLite enforces no foreign keys here
def test_tree_marks_deleted_accounts(app: Flask, run: Run, kaleo: Kaleo[User]) -> None:
    with app.app_context():
        root = make_user("root@example.com", allocation=5)
        mid = joined(kaleo, root, "mid@example.com")
        alice = joined(kaleo, mid, "alice@example.com")
        bob = joined(kaleo, alice, "bob@example.com")
        for gone in (mid, bob):
            db.session.delete(db.session.get_one(User, gone.id))
        db.session.commit()

    lines = run("tree", "alice@example.com").output.splitlines()
    assert lines[0] == "Invited by: mid@example.com [deleted] < root@example.com"
    assert lines[2].startswith("  bob@example.com [deleted] (brought in 0;")


# -- list, revoke, resend --------------------------------------------------------


@pytest.mark.all_backends
def test_list_shows_ids_states_and_pages(app: Flask, run: Run, kaleo: Kaleo[User]) -> None:
    with app.app_context():
        alice = make_user("alice@example.com", allocation=9)
        bob = make_user("bob@example.com", allocation=9)
        ids = {
            email: make_invitation(alice, email, state).id
            for email, state in [
                ("one@example.com", "sent"),
                ("two@example.com", "revoked"),
                ("three@example.com", "expired"),
                ("four@example.com", "accepted"),
            ]
        }
        make_invitation(bob, "other@example.com")

    result = run("list", "--from", "alice@example.com")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["ID", "STATE", "SENT", "(UTC)", "FROM", "TO"]
    shown = {line.split()[-1]: line.split() for line in lines[1:]}
    assert set(shown) == set(ids)
    for email, invitation_id in ids.items():
        assert shown[email][0] == str(invitation_id)
    assert shown["one@example.com"][1] == "pending"
    assert shown["three@example.com"][1] == "expired"

    pending = run("list", "--state", "pending").output.splitlines()
    assert sorted(line.split()[-1] for line in pending[1:]) == [
        "one@example.com",
        "other@example.com",
    ]

    seen: list[str] = []
    args: list[str] = ["list", "--limit", "2"]
    for _ in range(5):
        lines = run(*args).output.splitlines()
        more = [line for line in lines if line.startswith("More: --after ")]
        seen += [line.split()[-1] for line in lines[1:] if not line.startswith("More:")]
        if not more:
            break
        args = ["list", "--limit", "2", "--after", more[0].removeprefix("More: --after ")]
    assert sorted(seen) == sorted([*ids, "other@example.com"])
    assert run("list", "--state", "joined").output == "No invitations.\n"


@pytest.mark.all_backends
def test_revoke_gives_the_invitation_back_and_is_audited(
    app: Flask, run: Run, kaleo: Kaleo[User]
) -> None:
    with app.test_request_context():
        alice = make_user("alice@example.com", allocation=3)
        invitation = kaleo.invite(alice, "bob@example.com", send=False)

    result = run("revoke", str(invitation.id))
    assert result.exit_code == 0, result.output
    assert result.output == (
        "Revoked the invitation to bob@example.com; gave it back to its inviter.\n"
    )
    with app.app_context():
        assert invitation_to("bob@example.com").status == "revoked"
        assert stat_row(alice.id) == (3, 0, 0)
        assert audit_rows(kaleo) == [("revoke", "command line", "alice@example.com")]

    again = run("revoke", str(invitation.id))
    assert again.exit_code == 1
    assert "Error: This invitation has been withdrawn." in again.output


@SERVER
@pytest.mark.all_backends
def test_resend_mails_again_and_is_audited(
    app: Flask, run: Run, kaleo: Kaleo[User], outbox: list[t.Any]
) -> None:
    with app.app_context():
        alice = make_user("alice@example.com", allocation=3)
        invitation = make_invitation(alice, "bob@example.com")
        digest = invitation.token_digest

    result = run("resend", str(invitation.id))
    assert result.exit_code == 1  # within KALEO_RESEND_INTERVAL of its sending
    with app.app_context():
        age(invitation.id, days=1)

    result = run("resend", str(invitation.id))
    assert result.exit_code == 0, result.output
    assert result.output == (
        "Sent the invitation to bob@example.com again, under a new accept URL.\n"
    )
    assert [message.recipients for message in outbox] == [["bob@example.com"]]
    with app.app_context():
        assert invitation_to("bob@example.com").token_digest != digest
        assert audit_rows(kaleo) == [("resend", "command line", "alice@example.com")]


# -- audit -----------------------------------------------------------------------


@pytest.mark.all_backends
def test_audit_lists_newest_first_with_filters(app: Flask, run: Run, kaleo: Kaleo[User]) -> None:
    with app.app_context():
        make_user("alice@example.com", allocation=3)
        make_user("bob@example.com", allocation=3)
    run("suspend", "alice@example.com", "--reason", "spam")
    run("set-allocation", "bob@example.com", "9")
    run("resume", "alice@example.com")

    lines = run("audit").output.splitlines()
    assert [line.split("  ")[2] for line in lines] == ["resume", "set_allocation", "suspend"]
    assert "  suspend  by command line  on alice@example.com  " in lines[2]
    assert lines[2].endswith("  reason: spam")

    about_alice = run("audit", "--user", "alice@example.com").output.splitlines()
    assert [line.split("  ")[2] for line in about_alice] == ["resume", "suspend"]
    assert run("audit", "--action", "set_allocation").output.count("\n") == 1
    newest = run("audit", "--limit", "1").output.splitlines()
    assert newest[1] == f"More: --before {newest[0].split()[0]}"
    older = run("audit", "--before", newest[0].split()[0]).output.splitlines()
    assert [line.split("  ")[2] for line in older] == ["set_allocation", "suspend"]
    assert run("audit", "--limit", "3").output.count("More:") == 0

    entries = [json.loads(line) for line in run("audit", "--json").output.splitlines()]
    assert [entry["action"] for entry in entries] == ["resume", "set_allocation", "suspend"]
    assert entries[2]["actor"] == "command line"
    assert entries[2]["reason"] == "spam"
    assert run("audit", "--action", "extend").output == "No entries.\n"


@pytest.mark.parametrize(
    "command", ["suspend", "resume", "tree", "list", "revoke", "resend", "set-allocation", "audit"]
)
def test_every_staff_command_has_help(run: Run, command: str) -> None:
    result = run(command, "--help")
    assert result.exit_code == 0
    assert f"kaleo {command} [OPTIONS]" in result.output.split("Usage: ")[1]
