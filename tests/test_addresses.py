"""One canonical address, the same on every database: two spellings of one mailbox are
one invitation, two mailboxes are never merged, the member check sees through the
spellings, and the address mailed is the address validated. Through the invite
endpoint, with a real SMTP server recording what was sent and to which address."""

from __future__ import annotations

import email
import typing as t
from email import policy
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from flask_kaleo import Kaleo
from flask_kaleo.core.addresses import address_key
from flask_kaleo.core.addresses import canonical_address
from flask_kaleo.core.addresses import member_spellings
from flask_kaleo.exceptions import ConfigurationError
from flask_kaleo.exceptions import InvalidEmail
from tests.helpers import SMTPServer
from tests.helpers import assert_error
from tests.helpers import mail_relay
from tests.helpers import make_user
from tests.helpers import post_invite
from tests.helpers import signed_in
from tests.hostapp import User
from tests.hostapp import create_app
from tests.hostapp import db

NFD = "zoe\u0308@example.com"  # e + combining diaeresis
NFC = "zo\u00eb@example.com"


class Case(t.NamedTuple):
    first: str
    second: str
    mailboxes: list[str]
    """Where the emails went, in order: one mailbox means the second was refused as
    already invited, two mean both were invited."""


CASES: dict[str, Case] = {
    "punycode vs Unicode domain": Case(
        "user@bücher.de", "user@xn--bcher-kva.de", ["user@xn--bcher-kva.de"]
    ),
    "Unicode vs punycode domain, upper case": Case(
        "user@XN--BCHER-KVA.DE", "user@BÜCHER.de", ["user@xn--bcher-kva.de"]
    ),
    "NFC vs NFD local part": Case(NFC, NFD, [NFC]),
    "NFD vs NFC domain": Case("user@bu\u0308cher.de", "user@bücher.de", ["user@xn--bcher-kva.de"]),
    "fullwidth vs ASCII domain": Case(
        "kate@ｅｘａｍｐｌｅ.com", "kate@example.com", ["kate@example.com"]
    ),
    "non-ASCII case": Case("Élodie@example.com", "élodie@example.com", ["Élodie@example.com"]),
    "fullwidth vs ASCII local part": Case(
        "ｋａｔｅ@example.com", "kate@example.com", ["ｋａｔｅ@example.com"]
    ),
    "rene / rené": Case(
        "rene@example.com", "rené@example.com", ["rene@example.com", "rené@example.com"]
    ),
    "noel / noël": Case(
        "noel@example.com", "noël@example.com", ["noel@example.com", "noël@example.com"]
    ),
    "strasse / straße": Case(
        "strasse@example.com", "straße@example.com", ["strasse@example.com", "straße@example.com"]
    ),
    "straße.de / strasse.de": Case(
        "user@straße.de", "user@strasse.de", ["user@xn--strae-oqa.de", "user@strasse.de"]
    ),
}


@pytest.mark.all_backends
@pytest.mark.settings(KALEO_SMTPUTF8=True)
@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_two_spellings(
    app: Flask, client: FlaskClient, smtp: SMTPServer, case: Case, kaleo: Kaleo[User]
) -> None:
    signed_in(client, allocation=5)
    first = post_invite(client, case.first)
    assert first.json["status"] == "OK", first.json
    assert first.json["email"] == case.mailboxes[0]
    second = post_invite(client, case.second)
    if len(case.mailboxes) == 1:
        assert_error(second, field="email_address", code="already_invited")
    else:
        assert second.json["status"] == "OK", second.json
        assert second.json["email"] == case.mailboxes[1]
    assert smtp.recipients() == case.mailboxes
    for message, mailbox in zip(smtp.messages, case.mailboxes, strict=True):
        parsed = email.message_from_bytes(message.as_bytes(), policy=policy.default)
        assert parsed["To"] == mailbox
    # Non-ASCII local parts went out with SMTPUTF8, and only they did.
    options = [("SMTPUTF8" in o) for o in smtp.mail_options]
    assert options == [not mailbox.isascii() for mailbox in case.mailboxes]
    with app.app_context():
        model = kaleo.JoinInvitation
        rows = db.session.execute(sa.select(model.email, model.email_key).order_by(model.id))
        assert [(row.email, row.email_key) for row in rows] == [
            (mailbox, address_key(mailbox)) for mailbox in case.mailboxes
        ]


MEMBERS = {
    "fullwidth domain": ("kate@example.com", "kate@ｅｘａｍｐｌｅ.com"),
    "Unicode domain typed, member stored in punycode": ("user@xn--bcher-kva.de", "user@BÜCHER.de"),
    "punycode typed, member stored in Unicode": ("user@bücher.de", "user@XN--BCHER-KVA.DE"),
    "upper case": ("kate@example.com", "KATE@Example.COM"),
}


@pytest.mark.all_backends
@pytest.mark.parametrize(("member", "typed"), MEMBERS.values(), ids=MEMBERS.keys())
def test_the_member_check_sees_through_spellings(
    app: Flask, client: FlaskClient, smtp: SMTPServer, member: str, typed: str, kaleo: Kaleo[User]
) -> None:
    with app.app_context():
        make_user(member)
    inviter = signed_in(client, allocation=1)
    assert_error(post_invite(client, typed), field="email_address", code="already_member")
    assert smtp.recipients() == []
    with app.app_context():
        assert kaleo.invitations_remaining(inviter) == 1


@pytest.mark.all_backends
@pytest.mark.parametrize("member", ["rene@example.com", "strasse@example.com", "noel@example.com"])
@pytest.mark.settings(KALEO_SMTPUTF8=True)
def test_the_member_check_never_merges_two_mailboxes(
    app: Flask, client: FlaskClient, smtp: SMTPServer, member: str
) -> None:
    """MariaDB's default collations say rene = rené: the member check compares bytes."""
    other = member.replace("rene", "rené").replace("strasse", "straße").replace("noel", "noël")
    with app.app_context():
        make_user(member)
    signed_in(client, allocation=1)
    assert post_invite(client, other).json["status"] == "OK"
    assert smtp.recipients() == [other]


@pytest.mark.all_backends
def test_a_non_ascii_local_part_is_refused_and_nothing_is_spent(
    app: Flask, client: FlaskClient, smtp: SMTPServer, kaleo: Kaleo[User]
) -> None:
    inviter = signed_in(client, allocation=1)
    response = post_invite(client, "rené@example.com")
    assert_error(response, field="email_address", code="invalid_email")
    assert smtp.rcpt_count == 0
    with app.app_context():
        assert kaleo.invitations_remaining(inviter) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(kaleo.JoinInvitation)) == 0


@pytest.mark.settings(SERVER_NAME="beta.example.org", PREFERRED_URL_SCHEME="https")
def test_import_invites_reports_a_non_ascii_local_part_per_row(
    app: Flask, smtp: SMTPServer, tmp_path: Path
) -> None:
    with app.app_context():
        make_user("alice@example.com", allocation=3)
    csv_file = tmp_path / "invites.csv"
    csv_file.write_text("email\nfirst@example.com\nrené@example.com\nlast@bücher.de\n")
    result = app.test_cli_runner().invoke(
        args=["kaleo", "import-invites", "alice@example.com", str(csv_file)]
    )
    assert result.exit_code == 1, result.output
    assert result.stdout.splitlines() == [
        "line 2: sent to first@example.com",
        "line 3: refused rené@example.com: Use an address whose part before the @ is plain"
        " ASCII: this site's mail relay cannot deliver to it.",
        "line 4: sent to last@bücher.de",
        "Sent 2 invitations, refused 1, of 3 rows.",
    ]
    assert smtp.recipients() == ["first@example.com", "last@xn--bcher-kva.de"]


@pytest.mark.settings(KALEO_SMTPUTF8=True)
def test_a_relay_without_smtputf8_refuses_for_good_and_nothing_is_spent(
    app: Flask, client: FlaskClient, kaleo: Kaleo[User]
) -> None:
    """The setting says the relay takes SMTPUTF8; this one does not: the invitation is
    given back, as any email the relay refuses for good."""
    server = SMTPServer(smtputf8=False)
    server.start()
    try:
        with mail_relay(app, server.port):
            inviter = signed_in(client, allocation=1)
            response = post_invite(client, "rené@example.com")
    finally:
        server.stop()
    assert_error(response, code="delivery_failed")
    assert server.recipients() == []
    with app.app_context():
        assert kaleo.invitations_remaining(inviter) == 1


def test_the_setting_is_checked_at_start_up(database_url: str) -> None:
    with pytest.raises(ConfigurationError, match="KALEO_SMTPUTF8"):
        create_app(database_url, KALEO_SMTPUTF8="yes")


# -- the function itself ------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "email", "key"),
    [
        ("  Kate@Example.COM ", "Kate@example.com", "kate@example.com"),
        ("user@straße.de", "user@xn--strae-oqa.de", "user@xn--strae-oqa.de"),
        ("user@ＢÜＣＨＥＲ.de", "user@xn--bcher-kva.de", "user@xn--bcher-kva.de"),
        ("E\u0301lodie@example.com", "Élodie@example.com", "élodie@example.com"),
        ("ｋａｔｅ@example.com", "ｋａｔｅ@example.com", "kate@example.com"),
        ("STRAẞE@example.com", "STRAẞE@example.com", "straße@example.com"),
    ],
)
def test_canonical_address(typed: str, email: str, key: str) -> None:
    address = canonical_address(typed, smtputf8=True)
    assert (address.email, address.key) == (email, key)
    assert address_key(typed) == key


def test_canonical_address_refuses_a_non_ascii_local_part_by_default() -> None:
    with pytest.raises(InvalidEmail, match="plain ASCII"):
        canonical_address("rené@example.com")
    assert canonical_address("rene@bücher.de").email == "rene@xn--bcher-kva.de"


def test_address_key_of_something_that_is_no_address() -> None:
    assert address_key(" Not An Address ") == "not an address"
    assert member_spellings(" Not An Address ") == ["not an address"]


def test_member_spellings() -> None:
    assert member_spellings("User@BÜCHER.de") == ["user@xn--bcher-kva.de", "user@bücher.de"]
    assert member_spellings("STRAẞE@example.com") == ["straße@example.com"]
