"""``flask kaleo`` commands for delivery: the sweep (deliver) and the RQ worker."""

from __future__ import annotations

import datetime as dt

import click
from flask.cli import with_appcontext

from ..config import current_config
from ..state import get_kaleo
from .params import Duration
from .params import duration_help


@click.command("deliver")
@click.option(
    "--older-than",
    type=Duration(allow_zero=True),
    default=None,
    help=duration_help(
        "Only deliveries waiting longer than this (default 1h).", zero="for every one waiting"
    ),
)
@with_appcontext
def deliver(older_than: dt.timedelta | None) -> None:
    """Finish invitations whose email never went out (a killed process, a lost job).

    Inline, they are delivered now; queued, they are queued again; those that expired
    waiting go back to their inviters; a resend or reminder the relay refuses puts its
    earlier accept URL back. An email another process is delivering right now (within its
    lease) is left to it. Safe to run from cron, even while workers and another run
    are delivering: each email goes once.
    """
    report = get_kaleo().deliver(older_than=older_than)
    click.echo(
        f"Delivered {report.delivered:,}, queued {report.queued:,}, gave back"
        f" {report.given_back:,}, left {report.failed:,} for a later try, put back"
        f" {report.put_back:,} earlier links."
    )


@click.command("worker")
@click.option("--burst", is_flag=True, help="Deliver what is queued, then exit.")
@with_appcontext
def worker(burst: bool) -> None:
    """Run an RQ worker that delivers invitations (KALEO_DELIVERY = 'rq')."""
    if current_config().delivery != "rq":
        raise click.UsageError("the worker delivers for KALEO_DELIVERY = 'rq' only")
    get_kaleo().work(burst=burst)
