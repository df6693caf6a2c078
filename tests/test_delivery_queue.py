"""Queued delivery with real parts: RQ on Redis delivered by real worker processes, and
the Celery recipe delivered by a real Celery worker.

The request commits and queues; a worker, another process on the same database, mints
the token, sends to an aiosmtpd server on 127.0.0.1 and records the outcome. The worker
loads ``tests/queue_app.py`` (``FLASK_APP``) with this test's database and config, and
the RQ queue lives in the Redis database of ``KALEO_TEST_RQ_REDIS_URL`` (Celery's broker
in ``KALEO_TEST_CELERY_REDIS_URL``), emptied around each test.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import signal
import subprocess
import time
import typing as t
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient

from flask_kaleo import Kaleo
from flask_kaleo.core.tokens import token_digest
from flask_kaleo.models import utcnow
from tests.helpers import BIN
from tests.helpers import CELERY_REDIS_URL
from tests.helpers import ROOT
from tests.helpers import RQ_REDIS_URL
from tests.helpers import SMTPServer
from tests.helpers import accept_link
from tests.helpers import invitation_to
from tests.helpers import make_invitation
from tests.helpers import make_user
from tests.helpers import message_text
from tests.helpers import post_invite
from tests.helpers import redis_contents
from tests.helpers import run_at_once
from tests.helpers import run_command
from tests.helpers import signed_in
from tests.helpers import stat_row
from tests.helpers import worker_env
from tests.hostapp import User

SITE = "https://kaleo.example"

pytestmark = pytest.mark.settings(
    KALEO_DELIVERY="rq",
    KALEO_REDIS_URL=RQ_REDIS_URL,
    KALEO_SITE_URL=SITE,  # the worker builds links outside any request
    # four attempts, each retry queued again at once, for the burst worker
    KALEO_DELIVERY_RETRIES=[dt.timedelta(0)] * 3,
)

INVITEE = "carol@example.com"


def signals_sent(tmp_path: Path) -> list[dict[str, t.Any]]:
    """The ``invite_undeliverable`` signals the worker sent."""
    log = tmp_path / "signals.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def invite_and_see_it_queued(app: Flask, client: FlaskClient, smtp: SMTPServer) -> t.Any:
    """Alice invites Carol: the request answers OK with nothing delivered yet, and her
    list shows the invitation as sending. Returns Alice."""
    alice = signed_in(client)
    response = post_invite(client, INVITEE)

    assert response.json["status"] == "OK", response.json
    assert smtp.rcpt_count == 0 and smtp.messages == []
    assert response.json["invitation"]["status"] == "sending"
    assert 'class="sent sending"' in response.json["html"]
    page = client.get("/").get_data(as_text=True)
    assert 'class="sent sending"' in page and ">sending</span>" in page
    with app.app_context():
        invitation = invitation_to(INVITEE)
        assert (invitation.status, invitation.delivered_at) == ("sent", None)
        assert invitation.delivery_attempts == 0
        assert stat_row(alice.id) == (3, 1, 0)
    return alice


def assert_delivered_and_link_works(app: Flask, client: FlaskClient, smtp: SMTPServer) -> str:
    """The worker's email reached the server; its link is the live one. Returns the token."""
    assert smtp.recipients() == [INVITEE]
    host, token = accept_link(message_text(smtp.messages[0], "plain"))
    assert host == SITE
    assert accept_link(message_text(smtp.messages[0], "html")) == (host, token)
    response = client.get(f"/invites/accept/{token}")
    assert response.status_code == 303, response.get_data(as_text=True)
    with app.app_context():
        invitation = invitation_to(INVITEE)
        assert invitation.status == "sent" and invitation.delivered_at is not None
        assert invitation.display_status == "sent"
        assert invitation.delivery_attempts == 1
        assert invitation.token_digest == token_digest(token)  # only the digest is kept
    page = client.get("/").get_data(as_text=True)
    assert 'class="sent"' in page and "sending" not in page
    return token


def delivered(app: Flask) -> bool:
    """Whether the invitation's delivery is recorded (read in a transaction of its own)."""
    with app.app_context():
        return invitation_to(INVITEE).delivered_at is not None


KALEO_WORKER = [str(BIN / "flask"), "kaleo", "worker", "--burst"]


def drain(command: list[str], env: dict[str, str], redis: t.Any, tmp_path: Path) -> str:
    """Run a burst worker to its end; it must leave no job waiting or failed (a job
    that raised on its last attempt). Returns its output."""
    from rq import Queue

    log = run_command(command, env, tmp_path / "worker.log")
    queue = Queue("kaleo", connection=redis)
    assert (queue.count, queue.failed_job_registry.count) == (0, 0), log
    return log


def serve_until_delivered(
    app: Flask, command: list[str], env: dict[str, str], tmp_path: Path
) -> str:
    """Run a long-running worker until it has recorded the invitation's delivery (after
    the relay took the email), polled under a deadline, then stop it. Returns its
    output."""
    log = tmp_path / "worker.log"
    with log.open("w") as output:
        worker = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the scheduler and work horse too
        )
        try:
            deadline = time.monotonic() + 60
            while not delivered(app) and worker.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            # Its work is done or failed: nothing to shut down gracefully, and no child
            # of it may go on into the next test.
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
    return log.read_text()


# -- RQ -------------------------------------------------------------------------------


@pytest.mark.all_backends
def test_flask_kaleo_worker_delivers_after_the_request_answered(
    app: Flask,
    client: FlaskClient,
    smtp: SMTPServer,
    rq_redis: t.Any,
    database_url: str,
    tmp_path: Path,
) -> None:
    invite_and_see_it_queued(app, client, smtp)

    drain(KALEO_WORKER, worker_env(app, database_url, smtp, tmp_path), rq_redis, tmp_path)

    assert_delivered_and_link_works(app, client, smtp)
    assert signals_sent(tmp_path) == []


def test_plain_rq_worker_finds_the_app_through_flask_app(
    app: Flask,
    client: FlaskClient,
    smtp: SMTPServer,
    rq_redis: t.Any,
    database_url: str,
    tmp_path: Path,
) -> None:
    """The documented alternative: RQ's own command, run as the docs show it (a
    long-running worker with its scheduler), which loads the app from FLASK_APP (in
    each job's work horse) because no app context surrounds the job."""
    from rq import Queue

    invite_and_see_it_queued(app, client, smtp)

    plain = [str(BIN / "rq"), "worker", "--with-scheduler", "--url", RQ_REDIS_URL, "kaleo"]
    log = serve_until_delivered(app, plain, worker_env(app, database_url, smtp, tmp_path), tmp_path)

    queue = Queue("kaleo", connection=rq_redis)
    assert (queue.count, queue.failed_job_registry.count) == (0, 0), log
    assert_delivered_and_link_works(app, client, smtp)


def test_redis_never_holds_the_token(
    app: Flask,
    client: FlaskClient,
    smtp: SMTPServer,
    rq_redis: t.Any,
    database_url: str,
    tmp_path: Path,
) -> None:
    """Every key of the queue's Redis database, and every value by its type, decoded
    where RQ encodes (compressed pickles, base64 results), is searched for the token
    (its text and its bytes) and the link, once while the job waits and once after the
    worker ran: the job carries only the invitation's id."""
    from rq import Queue

    invite_and_see_it_queued(app, client, smtp)
    with app.app_context():
        invitation_id = invitation_to(INVITEE).id
    [job] = Queue("kaleo", connection=rq_redis).get_jobs()
    assert job.func_name == "flask_kaleo.delivery.rq.deliver_job"
    assert (job.args, job.kwargs) == ((invitation_id,), {})
    waiting = redis_contents(rq_redis)
    # The scan reads the job's payload (the compressed pickle of its call):
    assert any(b"flask_kaleo.delivery.rq.deliver_job" in blob for blob in waiting)

    drain(KALEO_WORKER, worker_env(app, database_url, smtp, tmp_path), rq_redis, tmp_path)

    token = assert_delivered_and_link_works(app, client, smtp)
    done = redis_contents(rq_redis)
    assert any(b"'delivered'" in blob for blob in done)  # it reads the job's result too
    url = f"{SITE}/invites/accept/{token}"
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))  # its 32 random bytes
    secrets = {raw, *(form.encode() for form in (token, url, quote(url, safe="")))}
    leaks = [blob for blob in waiting + done for secret in secrets if secret in blob]
    assert leaks == []


@pytest.mark.settings(KALEO_DELIVERY_RETRIES=[dt.timedelta(0)] * 2)
def test_passing_refusals_are_retried_then_the_invitation_is_given_back(
    app: Flask,
    client: FlaskClient,
    smtp: SMTPServer,
    rq_redis: t.Any,
    database_url: str,
    tmp_path: Path,
) -> None:
    """A relay answering 450 at RCPT, every time: three attempts reach it, then the
    invitation is undeliverable, Alice has her invitation back, and the signal went."""
    from rq import Queue

    smtp.refuse_at, smtp.rcpt_refusal = "RCPT", "450 4.2.1 Mailbox busy, try again later"
    alice = invite_and_see_it_queued(app, client, smtp)
    [job] = Queue("kaleo", connection=rq_redis).get_jobs()

    log = drain(KALEO_WORKER, worker_env(app, database_url, smtp, tmp_path), rq_redis, tmp_path)

    assert smtp.rcpt_count == 3 and smtp.messages == []
    assert log.count("Mailbox busy") >= 2, log  # the two attempts that raised, logged
    assert job.get_status(refresh=True) == "finished"  # the last attempt gave it back
    with app.app_context():
        invitation = invitation_to(INVITEE)
        assert invitation.delivery_attempts == 3
        assert invitation.status == "undeliverable" and invitation.delivered_at is None
        assert stat_row(alice.id) == (3, 0, 0)
        assert signals_sent(tmp_path) == [
            {"invitation": invitation.id, "inviter": alice.id, "status": "undeliverable"}
        ]
    page = client.get("/").get_data(as_text=True)
    assert 'class="undeliverable"' in page
    assert '<span class="invitations_remaining">(3)</span>' in page


@pytest.mark.settings(KALEO_DELIVERY_RETRIES=[dt.timedelta(0)] * 2)
def test_a_permanent_refusal_is_given_back_after_one_attempt(
    app: Flask,
    client: FlaskClient,
    smtp: SMTPServer,
    rq_redis: t.Any,
    database_url: str,
    tmp_path: Path,
) -> None:
    smtp.refuse_at = "RCPT"  # 550: retrying cannot help
    alice = invite_and_see_it_queued(app, client, smtp)

    drain(KALEO_WORKER, worker_env(app, database_url, smtp, tmp_path), rq_redis, tmp_path)

    assert smtp.rcpt_count == 1 and smtp.messages == []
    with app.app_context():
        invitation = invitation_to(INVITEE)
        assert invitation.delivery_attempts == 1
        assert invitation.status == "undeliverable"
        assert stat_row(alice.id) == (3, 0, 0)
        assert signals_sent(tmp_path) == [
            {"invitation": invitation.id, "inviter": alice.id, "status": "undeliverable"}
        ]


# -- the Celery recipe ------------------------------------------------------------------


@pytest.mark.settings(
    KALEO_DELIVERY="queue", CELERY={"broker_url": CELERY_REDIS_URL, "task_ignore_result": True}
)
def test_celery_recipe_delivers_through_a_celery_worker(
    app: Flask,
    client: FlaskClient,
    smtp: SMTPServer,
    celery_redis: t.Any,
    database_url: str,
    tmp_path: Path,
    kaleo: Kaleo[User],
) -> None:
    """tests/celery_app.py, as the docs show it, with a real worker on Redis."""
    from tests.celery_app import celery_init_app

    celery_init_app(app)
    invite_and_see_it_queued(app, client, smtp)
    assert celery_redis.llen("celery") == 1  # the task waits on the broker

    command = [str(BIN / "celery"), "-A", "tests.celery_worker", "worker", "--pool=solo"]
    command += ["--concurrency=1", "--without-gossip", "--without-mingle", "--loglevel=INFO"]
    log = serve_until_delivered(
        app, command, worker_env(app, database_url, smtp, tmp_path), tmp_path
    )

    assert smtp.messages, log
    assert_delivered_and_link_works(app, client, smtp)
    assert "deliver_invitation" in log


def test_a_burst_worker_exits_as_soon_as_the_queue_is_empty(
    app: Flask,
    client: FlaskClient,
    smtp: SMTPServer,
    rq_redis: t.Any,
    database_url: str,
    tmp_path: Path,
) -> None:
    """Four runs, each delivering one invitation, must each exit within 20 s (RQ's
    listener thread could hold a worker's exit for a minute, about one run in two)."""
    signed_in(client, allocation=10)
    env = worker_env(app, database_url, smtp, tmp_path)
    for n in range(4):
        assert post_invite(client, f"friend{n}@example.com").json["status"] == "OK"
        run_command(KALEO_WORKER, env, tmp_path / f"worker-{n}.log", timeout=20)
        assert len(smtp.messages) == n + 1
    run_command(KALEO_WORKER, env, tmp_path / "worker-empty.log", timeout=20)


@pytest.mark.all_backends
def test_two_burst_workers_with_duplicate_jobs_mail_each_invitation_once(
    app: Flask,
    smtp: SMTPServer,
    rq_redis: t.Any,
    database_url: str,
    tmp_path: Path,
    kaleo: Kaleo[User],
) -> None:
    """Six stuck invitations: two sweeps queue one job each (the job id names the
    sending). Then each has two jobs side by side (a lost job found again), and two
    burst workers run at once against a relay that takes 0.3 s per message: one email
    per address."""
    from rq import Queue

    from flask_kaleo.delivery.rq import JOB

    smtp.delay = 0.3
    addresses = [f"friend{n}@example.com" for n in range(6)]
    with app.app_context():
        alice = make_user("alice@example.com", 10)
        for address in addresses:
            make_invitation(alice, address, "sending", sent_at=utcnow() - dt.timedelta(days=1))
        assert kaleo.deliver(older_than=dt.timedelta(0)).queued == 6
        assert kaleo.deliver(older_than=dt.timedelta(0)).queued == 6
        ids = [invitation_to(address).id for address in addresses]
    queue = Queue("kaleo", connection=rq_redis)
    assert queue.count == 6
    queue.empty()  # type: ignore[no-untyped-call]
    # each invitation's two jobs side by side, so the two workers overlap
    for invitation_id in ids:
        queue.enqueue_call(JOB, args=(invitation_id,))
        queue.enqueue_call(JOB, args=(invitation_id,))

    env = worker_env(app, database_url, smtp, tmp_path)
    logs = run_at_once([KALEO_WORKER, KALEO_WORKER], env, tmp_path)

    assert sorted(smtp.recipients()) == addresses
    assert (queue.count, queue.failed_job_registry.count) == (0, 0), logs
    with app.app_context():
        for address in addresses:
            stored = invitation_to(address)
            assert stored.delivered_at is not None and stored.delivery_attempts == 2
