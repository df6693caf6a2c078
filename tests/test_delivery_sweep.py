"""A process killed between the commit and the delivery, then the sweeper.

A child process creates the host app on the test's database and sends an invitation
through a transport that SIGKILLs the process when it is called: the invitation and
the spend are committed, the email never left. The invitation must then be visibly
not delivered ("sending") and spent, and once the killed claim's lease has passed,
``flask kaleo deliver`` must finish it: send it under a new link that works, or give it
back if it expired while it waited.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from flask_kaleo import signals
from tests.helpers import WAIT
from tests.helpers import SMTPServer
from tests.helpers import accept_link
from tests.helpers import assert_counters_match_rows
from tests.helpers import current_kaleo
from tests.helpers import expire
from tests.helpers import lapse_lease
from tests.helpers import make_user
from tests.helpers import message_text
from tests.helpers import received
from tests.hostapp import User
from tests.hostapp import db

# The sweeper runs outside any request, so links come from the configured site.
pytestmark = [pytest.mark.all_backends, pytest.mark.settings(KALEO_SITE_URL="http://localhost")]

ROOT = Path(__file__).resolve().parent.parent

KILLED_AFTER_COMMIT = """
import os, signal, sys
from tests.hostapp import User, create_app, db

url, inviter_id, address = sys.argv[1:]
app = create_app(url)
kaleo = app.extensions["kaleo"]

@kaleo.transport
def killed(email, timeout):
    os.kill(os.getpid(), signal.SIGKILL)

with app.test_request_context():
    kaleo.invite(db.session.get_one(User, int(inviter_id)), address)
sys.exit("the transport was never called")
"""


def invite_and_get_killed(database_url: str, inviter: User, address: str) -> None:
    """Run ``kaleo.invite`` in a child process that is killed once the invitation is
    committed, as its email is handed to the transport."""
    child = subprocess.run(
        [sys.executable, "-c", KILLED_AFTER_COMMIT, database_url, str(inviter.id), address],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=WAIT,
    )
    assert child.returncode == -signal.SIGKILL, (child.returncode, child.stderr)


def deliver(app: Flask, *options: str) -> str:
    result = app.test_cli_runner().invoke(args=["kaleo", "deliver", *options])
    assert result.exit_code == 0, result.output
    return str(result.output)


def the_invitation(inviter: User) -> t.Any:
    db.session.expire_all()
    [invitation] = current_kaleo().sent_invitations(db.session.get_one(User, inviter.id))
    return invitation


@pytest.mark.parametrize("fate", ["delivered", "expired"])
def test_killed_between_commit_and_delivery_then_swept(
    app: Flask, client: FlaskClient, smtp: SMTPServer, database_url: str, fate: str
) -> None:
    with app.app_context():
        alice = make_user("alice@example.com", 2)

    invite_and_get_killed(database_url, alice, "carol@example.com")

    with app.app_context():
        stuck = the_invitation(alice)
        assert (stuck.status, stuck.display_status) == ("sent", "sending")
        assert stuck.delivered_at is None and stuck.pending_email_key == "carol@example.com"
        assert assert_counters_match_rows(alice.id) == (2, 1, 0)  # spent
        killed_digest = stuck.token_digest
    assert smtp.messages == []
    # a delivery younger than the threshold may still be under way: left alone
    assert deliver(app).startswith("Delivered 0, queued 0, gave back 0")
    if fate == "expired":
        with app.app_context():
            expire(stuck.id)
    # so is one whose claim still holds its lease, whatever its age
    assert deliver(app, "--older-than", "0").startswith("Delivered 0, queued 0, gave back 0")
    assert smtp.messages == []
    with app.app_context():
        assert the_invitation(alice).delivery_lease_until is not None
        lapse_lease(stuck.id)

    with received(signals.invite_undeliverable) as given_back:
        output = deliver(app, "--older-than", "0")

    with app.app_context():
        swept = the_invitation(alice)
        if fate == "expired":
            assert output.startswith("Delivered 0, queued 0, gave back 1")
            assert (swept.status, swept.pending_email_key) == ("undeliverable", None)
            assert given_back == [{"invitation": swept.id, "inviter": alice.id}]
            assert smtp.messages == []
            assert assert_counters_match_rows(alice.id) == (2, 0, 0)
            return
        assert output.startswith("Delivered 1, queued 0, gave back 0")
        assert (swept.status, swept.display_status) == ("sent", "sent")
        assert swept.delivered_at is not None
        assert swept.token_digest != killed_digest  # a new link: the first one never left
        assert given_back == []
        assert assert_counters_match_rows(alice.id) == (2, 1, 0)  # unchanged
    [message] = smtp.messages
    assert message["To"] == "carol@example.com"
    host, token = accept_link(message_text(message, "plain"))
    assert accept_link(message_text(message, "html")) == (host, token)
    assert host == "http://localhost"
    assert client.get(f"/invites/accept/{token}").status_code == 303
    # once delivered, a later sweep has nothing to do
    assert deliver(app, "--older-than", "0").startswith("Delivered 0, queued 0, gave back 0")
    with app.app_context():
        assert the_invitation(alice).delivered_at is not None
        assert assert_counters_match_rows(alice.id) == (2, 1, 0)
