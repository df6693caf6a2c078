"""``flask kaleo infinite-invites``, ``stats``, ``purge-expired``, ``invite`` and
``import-invites``, run through Flask's CLI runner. The set-based ones (infinite-invites,
stats, purge-expired) run on every database."""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import Result
from flask import Flask

from flask_kaleo import DeliveryError
from flask_kaleo import Kaleo
from tests.helpers import AJAX
from tests.helpers import SMTPServer
from tests.helpers import Statements
from tests.helpers import csrf_token
from tests.helpers import expire
from tests.helpers import fresh
from tests.helpers import invitation_to
from tests.helpers import kaleo_of
from tests.helpers import login
from tests.helpers import make_user
from tests.helpers import stat_row
from tests.hostapp import User
from tests.hostapp import db

Run = t.Callable[..., Result]

SERVER = pytest.mark.settings(SERVER_NAME="beta.example.org", PREFERRED_URL_SCHEME="https")


@pytest.fixture
def run(app: Flask) -> Run:
    runner = app.test_cli_runner()

    def invoke(*args: str) -> Result:
        result = runner.invoke(args=["kaleo", *args])
        with app.app_context():
            db.session.expire_all()
        return result

    return invoke


def invitations(app: Flask) -> list[tuple[str, str]]:
    with app.app_context():
        model = kaleo_of(app).JoinInvitation
        rows = db.session.execute(sa.select(model.email, model.status).order_by(model.id))
        return [(row.email, row.status) for row in rows]


@pytest.mark.parametrize(
    "command", ["infinite-invites", "report", "purge-expired", "invite", "import-invites"]
)
def test_every_command_has_help(run: Run, command: str) -> None:
    result = run(command, "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.output and "--help" in result.output


# -- infinite-invites ------------------------------------------------------------


@pytest.mark.all_backends
def test_infinite_invites_for_everyone_and_one(app: Flask, run: Run) -> None:
    with app.app_context():
        bob = make_user("bob@example.com", allocation=3)
        eve = make_user("eve@example.com")
        fresh(bob, eve)
    result = run("infinite-invites", "--user", "bob@example.com")
    assert result.exit_code == 0 and result.output == "Gave unlimited invitations to 1 user.\n"
    with app.app_context():
        assert stat_row(bob.id) == (-1, 0, 0) and stat_row(eve.id) is None
    result = run("infinite-invites")
    assert result.output == "Gave unlimited invitations to 1 user.\n"  # bob already was
    with app.app_context():
        assert stat_row(eve.id) == (-1, 0, 0)
    result = run("infinite-invites", "--user", "nobody@example.com")
    assert result.exit_code == 2 and "no user with the email address or id" in result.output


# -- stats -----------------------------------------------------------------------


@SERVER
@pytest.mark.all_backends
def test_report_text_and_json(
    app: Flask, run: Run, statements: Statements, kaleo: Kaleo[User]
) -> None:
    with app.app_context():
        alice = make_user("alice@example.com", allocation=10)
    for address in ("a@example.com", "b@example.com", "c@example.com", "d@example.com"):
        assert run("invite", str(alice.id), address).exit_code == 0
    with app.app_context():
        kaleo.accept(invitation_to("a@example.com"), make_user("a@example.com"))
        db.session.commit()
        expire(invitation_to("b@example.com").id)
        kaleo.revoke(invitation_to("c@example.com"))
        kaleo.process_independent_joins(make_user("d@example.com"), "d@example.com")
        db.session.commit()
    assert run("invite", "alice@example.com", "e@example.com").exit_code == 0

    with statements:
        result = run("report", "--json")
    assert result.exit_code == 0
    assert json.loads(result.output) == {
        "sent": 5,
        "accepted": 1,
        "joined_independently": 1,
        "pending": 1,
        "expired": 1,
        "revoked": 1,
        "undeliverable": 0,
        "acceptance_rate": 0.2,
    }
    assert len([s for s in statements.statements if "kaleo_join_invitation" in s]) == 1

    text = run("report").output
    assert "Sent:                 5\n" in text
    assert "Joined independently: 1\n" in text
    assert "Acceptance rate:      20.0%\n" in text


def test_report_on_an_empty_site(run: Run) -> None:
    result = run("report", "--json")
    assert json.loads(result.output)["acceptance_rate"] is None
    assert "Acceptance rate:      n/a" in run("report").output


# -- purge-expired -----------------------------------------------------------------


@SERVER
@pytest.mark.all_backends
def test_purge_expired_deletes_only_old_expired_ones(
    app: Flask, run: Run, kaleo: Kaleo[User]
) -> None:
    with app.app_context():
        alice = make_user("alice@example.com", allocation=10)
    for address in ("old@example.com", "recent@example.com", "live@example.com"):
        assert run("invite", "alice@example.com", address).exit_code == 0
    assert run("invite", "alice@example.com", "gone@example.com").exit_code == 0
    with app.app_context():
        expire(invitation_to("old@example.com").id, hours_ago=24 * 40)
        expire(invitation_to("recent@example.com").id, hours_ago=24 * 2)
        gone = invitation_to("gone@example.com")
        kaleo.revoke(gone)
        expire(gone.id, hours_ago=24 * 40)  # revoked: never purged as "expired"

    result = run("purge-expired", "--dry-run")
    assert result.exit_code == 0
    assert result.output == "Would delete 1 invitation that expired more than 30 days ago.\n"
    assert len(invitations(app)) == 4

    result = run("purge-expired")
    assert result.output == "Deleted 1 invitation that expired more than 30 days ago.\n"
    assert [e for e, _ in invitations(app)] == [
        "recent@example.com",
        "live@example.com",
        "gone@example.com",
    ]
    assert run("purge-expired", "--older-than", "1").output.startswith("Deleted 1 invitation")
    assert [e for e, _ in invitations(app)] == ["live@example.com", "gone@example.com"]
    with app.app_context():
        assert stat_row(alice.id) == (10, 3, 0)  # expired invitations stay spent


@pytest.mark.parametrize("value", ["-1", "abc", "1e9", "nan", "NaN", "inf"])
@pytest.mark.parametrize("command", ["purge-expired", "deliver"])
def test_a_bad_cutoff_is_a_usage_error(run: Run, command: str, value: t.Any) -> None:
    result = run(command, "--older-than", value)
    assert result.exit_code == 2 and "--older-than" in result.output
    assert "Traceback" not in result.output


# -- invite ------------------------------------------------------------------------


def test_invite_needs_server_name(app: Flask, run: Run, outbox: list[t.Any]) -> None:
    with app.app_context():
        alice = make_user("alice@example.com", allocation=2)
    result = run("invite", "alice@example.com", "carol@example.com")
    assert result.exit_code == 1
    assert "SERVER_NAME" in result.output
    assert outbox == [] and invitations(app) == []
    with app.app_context():
        assert stat_row(alice.id) == (2, 0, 0)


@SERVER
def test_invite_on_someones_behalf(app: Flask, run: Run, outbox: list[t.Any]) -> None:
    with app.app_context():
        alice = make_user("alice@example.com", allocation=1)
    result = run("invite", str(alice.id), "Carol@Example.com", "--message", "Come along")
    assert result.exit_code == 0, result.output
    assert result.output == (
        # The canonical address: the local part as typed, the domain in lower case.
        "Sent an invitation to Carol@example.com from alice@example.com (0 left).\n"
    )
    assert "https://beta.example.org/invites/accept/" in outbox[0].body
    assert "Come along" in outbox[0].body
    result = run("invite", "alice@example.com", "dave@example.com")
    assert result.exit_code == 1 and "no invitations left" in result.output
    result = run("invite", "alice@example.com", "not an address")
    assert result.exit_code == 1 and "valid email address" in result.output
    result = run("invite", "nobody@example.com", "dave@example.com")
    assert result.exit_code == 2 and "FROM_USER" in result.output
    result = run("invite", "alice@example.com")
    assert result.exit_code == 2 and "Missing argument 'EMAIL'" in result.output
    assert len(outbox) == 1


@SERVER
def test_invite_force_goes_beyond_the_allocation(app: Flask, run: Run, outbox: list[t.Any]) -> None:
    with app.app_context():
        alice = make_user("alice@example.com", allocation=1)
        bob = make_user("bob@example.com")  # no stat row: default allocation 0
        free = make_user("free@example.com", allocation=-1)
        fresh(alice, bob, free)
    for user, address in ((alice, "a@example.com"), (alice, "b@example.com")):
        result = run("invite", "--force", user.email, address)
        assert result.exit_code == 0, result.output
    assert run("invite", "--force", "bob@example.com", "c@example.com").exit_code == 0
    assert run("invite", "--force", "free@example.com", "d@example.com").exit_code == 0
    # Forced twice to one address is still refused: the allocation is not the issue.
    result = run("invite", "--force", "bob@example.com", "c@example.com")
    assert result.exit_code == 1 and "already invited" in result.output
    with app.app_context():
        assert stat_row(alice.id) == (2, 2, 0)  # raised by one: sent <= allocated holds
        assert stat_row(bob.id) == (1, 1, 0)
        assert stat_row(free.id) == (-1, 1, 0)
    assert len(outbox) == 4


@SERVER
@pytest.mark.settings(KALEO_DEFAULT_INVITE_ALLOCATION=2)
def test_force_with_a_default_allocation_spends_the_default_first(app: Flask, run: Run) -> None:
    with app.app_context():
        carl = make_user("carl@example.com")
    for number in range(3):
        assert run("invite", "--force", "carl@example.com", f"x{number}@example.com").exit_code == 0
    with app.app_context():
        assert stat_row(carl.id) == (3, 3, 0)


@pytest.mark.settings(KALEO_SITE_URL="https://beta.example.org")  # no SERVER_NAME: HTTP too
@pytest.mark.all_backends  # one UPDATE undoes both counters; the CHECK must hold on each
def test_revoking_a_forced_invitation_gives_back_only_what_the_member_had(
    app: Flask, run: Run, outbox: list[t.Any], kaleo: Kaleo[User]
) -> None:
    """Revoking a --force invitation undoes the raise it made: it never becomes an
    invitation the member could spend, and their remaining stays at 0."""
    with app.app_context():
        alice = make_user("alice@example.com", allocation=1)
        fresh(alice)
    assert run("invite", "alice@example.com", "a@example.com").exit_code == 0  # her own
    for address in ("b@example.com", "c@example.com"):
        result = run("invite", "--force", "alice@example.com", address)
        assert result.exit_code == 0, result.output
    with app.app_context():
        assert stat_row(alice.id) == (3, 3, 0)
        assert [invitation_to(f"{x}@example.com").forced for x in "abc"] == [False, True, True]
        assert kaleo.invitations_remaining(alice) == 0
    client = app.test_client()
    login(client, alice)
    for address in ("b@example.com", "c@example.com"):  # the member revokes, over HTTP
        with app.app_context():
            invitation_id = invitation_to(address).id
        body = client.post(
            f"/invites/revoke/{invitation_id}",
            data={"csrf_token": csrf_token(client)},
            headers=AJAX,
        ).json
        assert (body["status"], body["invitation"]["status"]) == ("OK", "revoked"), body
    with app.app_context():
        assert stat_row(alice.id) == (1, 1, 0)  # what she had before staff stepped in
        kaleo.revoke(invitation_to("a@example.com"))  # her own one comes back as before
        assert stat_row(alice.id) == (1, 0, 0)
    result = run("invite", "alice@example.com", "d@example.com")
    assert result.exit_code == 0, result.output
    result = run("invite", "alice@example.com", "e@example.com")
    assert result.exit_code == 1 and "no invitations left" in result.output


@SERVER
@pytest.mark.all_backends
def test_an_undeliverable_forced_invitation_lowers_the_raise(
    app: Flask, run: Run, kaleo: Kaleo[User]
) -> None:
    """Given back by delivery (the relay refused it), a forced invitation leaves the
    allocation as it was, like a revoke; an unlimited one stays unlimited."""
    with app.app_context():
        alice = make_user("alice@example.com", allocation=0)
        free = make_user("free@example.com", allocation=-1)
        fresh(alice, free)

    def refuse(email: t.Any, timeout: float) -> None:
        raise DeliveryError("550 no such mailbox", permanent=True)

    kaleo.transport(refuse)
    for user in ("alice@example.com", "free@example.com"):
        result = run("invite", "--force", user, "x@example.com")
        assert result.exit_code == 1 and "could not be delivered" in result.output
    with app.app_context():
        assert stat_row(alice.id) == (0, 0, 0)
        assert stat_row(free.id) == (-1, 0, 0)


# -- import-invites ------------------------------------------------------------------


def write(tmp_path: Path, text: str, name: str = "invites.csv", encoding: str = "utf-8") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


@SERVER
def test_import_reports_every_row(
    app: Flask, run: Run, tmp_path: Path, outbox: list[t.Any]
) -> None:
    with app.app_context():
        alice = make_user("alice@example.com", allocation=3)
        fresh(alice, make_user("member@example.com"))
    csv_file = write(
        tmp_path,
        "Email,Message\n"
        "one@example.com,Hello one\n"
        "not-an-address,\n"
        "member@example.com,\n"
        "ONE@example.com,again\n"
        ",\n"
        'two@example.com,"Hi, two"\n'
        "three@example.com,\n"
        "four@example.com,\n",
    )
    result = run("import-invites", "alice@example.com", csv_file)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "line 2: sent to one@example.com"
    assert lines[1].startswith("line 3: refused not-an-address: Enter a valid email address")
    assert lines[2] == "line 4: refused member@example.com: member@example.com is already a member."
    assert lines[3] == "line 5: refused ONE@example.com: You have already invited ONE@example.com."
    assert lines[4] == "line 6: refused (empty): Enter an email address."
    assert lines[5] == "line 7: sent to two@example.com"
    assert lines[6] == "line 8: sent to three@example.com"
    assert lines[7] == "line 9: refused four@example.com: You have no invitations left."
    assert lines[-1] == "Sent 3 invitations, refused 5, of 8 rows."
    assert "Sending invitations" in result.stderr  # the progress bar
    assert [message.recipients[0] for message in outbox] == [
        "one@example.com",
        "two@example.com",
        "three@example.com",
    ]
    assert "Hi, two" in outbox[1].body
    with app.app_context():
        assert stat_row(alice.id) == (3, 3, 0)
    assert [email for email, _ in invitations(app)] == [
        "one@example.com",
        "two@example.com",
        "three@example.com",
    ]


@SERVER
def test_import_row_that_cannot_be_delivered_is_given_back(
    app: Flask, run: Run, tmp_path: Path, smtp: SMTPServer
) -> None:
    with app.app_context():
        alice = make_user("alice@example.com", allocation=5)
    smtp.refuse.add("bounce@example.com")
    csv_file = write(tmp_path, "email\nfirst@example.com\nbounce@example.com\nlast@example.com\n")
    result = run("import-invites", "alice@example.com", csv_file)
    assert result.exit_code == 1
    assert "line 3: refused bounce@example.com: The invitation email could not be delivered" in (
        result.stdout
    )
    assert result.stdout.splitlines()[-1] == "Sent 2 invitations, refused 1, of 3 rows."
    assert smtp.recipients() == ["first@example.com", "last@example.com"]
    assert invitations(app) == [
        ("first@example.com", "sent"),
        ("bounce@example.com", "undeliverable"),
        ("last@example.com", "sent"),
    ]
    with app.app_context():
        assert stat_row(alice.id) == (5, 2, 0)  # the bounced row was given back


@SERVER
def test_import_row_whose_transport_breaks_is_refused_and_the_rest_sent(
    app: Flask, run: Run, tmp_path: Path, kaleo: Kaleo[User]
) -> None:
    """A transport that raises something unexpected for one row: that row is reported
    and counted as refused (given back), the others are sent, and the exit is 1."""
    with app.app_context():
        alice = make_user("alice@example.com", allocation=5)
    delivered: list[str] = []

    def transport(email: t.Any, timeout: float) -> None:
        if email.recipient == "broken@example.com":
            raise RuntimeError("the transport broke")
        delivered.append(email.recipient)

    kaleo.transport(transport)
    csv_file = write(tmp_path, "email\nfirst@example.com\nbroken@example.com\nlast@example.com\n")
    result = run("import-invites", "alice@example.com", csv_file)
    assert result.exit_code == 1, result.output
    assert result.stdout.splitlines() == [
        "line 2: sent to first@example.com",
        "line 3: not sent broken@example.com: unexpected error (the transport broke)",
        "line 4: sent to last@example.com",
        "Sent 2 invitations, refused 1, of 3 rows.",
    ]
    assert delivered == ["first@example.com", "last@example.com"]
    with app.app_context():
        assert stat_row(alice.id) == (5, 2, 0)  # the broken row was given back
    assert dict(invitations(app))["broken@example.com"] == "undeliverable"


@SERVER
def test_import_all_good_exits_zero(app: Flask, run: Run, tmp_path: Path) -> None:
    with app.app_context():
        make_user("alice@example.com", allocation=-1)
    csv_file = write(tmp_path, "\ufeffemail\na@example.com\nb@example.com\n")  # a BOM too
    result = run("import-invites", "alice@example.com", csv_file)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "Sent 2 invitations, refused 0, of 2 rows."


@SERVER
@pytest.mark.settings(KALEO_DAILY_SEND_LIMIT=2)
def test_import_stops_at_the_daily_limit_row_by_row(app: Flask, run: Run, tmp_path: Path) -> None:
    """An unlimited member's import still stops at the day's sends; each refused row
    is reported, and nothing is spent for it."""
    with app.app_context():
        alice = make_user("alice@example.com", allocation=-1)
    csv_file = write(tmp_path, "email\na@example.com\nb@example.com\nc@example.com\n")
    result = run("import-invites", "alice@example.com", csv_file)
    assert result.exit_code == 1, result.output
    assert "most invitations allowed in a day" in result.stdout
    assert result.stdout.splitlines()[-1] == "Sent 2 invitations, refused 1, of 3 rows."
    with app.app_context():
        assert stat_row(alice.id) == (-1, 2, 0)


def test_import_without_server_name_stops_at_the_first_row(
    app: Flask, run: Run, tmp_path: Path, outbox: list[t.Any]
) -> None:
    with app.app_context():
        make_user("alice@example.com", allocation=5)
    csv_file = write(tmp_path, "email\na@example.com\nb@example.com\n")
    result = run("import-invites", "alice@example.com", csv_file)
    assert result.exit_code == 1
    assert "stopped at line 2" in result.output and "SERVER_NAME" in result.output
    assert outbox == [] and invitations(app) == []


@pytest.mark.parametrize(
    ("content", "encoding", "message"),
    [
        ("address\na@example.com\n", "utf-8", "'email' column"),
        ("", "utf-8", "'email' column"),
        ("email\nnaïve@example.com\n", "latin-1", "not a UTF-8 file"),
    ],
    ids=["no-email-column", "empty", "latin-1"],
)
def test_import_rejects_a_bad_file(
    app: Flask, run: Run, tmp_path: Path, content: str, encoding: str, message: str
) -> None:
    with app.app_context():
        make_user("alice@example.com", allocation=5)
    result = run("import-invites", "alice@example.com", write(tmp_path, content, encoding=encoding))
    assert result.exit_code == 2 and message in result.output
    assert invitations(app) == []


@SERVER
def test_import_reports_oversized_fields_row_by_row_and_goes_on(
    app: Flask, run: Run, tmp_path: Path, smtp: SMTPServer
) -> None:
    """Python's csv module stops at a 128 KiB field: such a row is refused with its
    reason, and the rows after it are still sent and reported."""
    with app.app_context():
        alice = make_user("alice@example.com", allocation=5)
    huge = "x" * 200_000
    content = (
        "email,message\n"
        f"first@example.com,{huge}\n"
        f"{huge}@example.com,hello\n"
        "last@example.com,see you\n"
    )
    result = run("import-invites", "alice@example.com", write(tmp_path, content))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "line 2: refused first@example.com: Keep the message under 1000 characters."
    assert lines[1].startswith("line 3: refused xxx") and "(200,012 characters)" in lines[1]
    assert lines[1].endswith("That email address is too long.") and len(lines[1]) < 250
    assert lines[2] == "line 4: sent to last@example.com"
    assert lines[-1] == "Sent 1 invitation, refused 2, of 3 rows."
    assert smtp.recipients() == ["last@example.com"]
    with app.app_context():
        assert stat_row(alice.id) == (5, 1, 0)


def test_import_usage_errors(app: Flask, run: Run, tmp_path: Path) -> None:
    with app.app_context():
        make_user("alice@example.com", allocation=5)
    result = run("import-invites", "alice@example.com", str(tmp_path / "missing.csv"))
    assert result.exit_code == 2 and "does not exist" in result.output
    result = run("import-invites", "ghost@example.com", write(tmp_path, "email\n"))
    assert result.exit_code == 2 and "no user" in result.output
