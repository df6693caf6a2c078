"""``flask kaleo`` commands for delivery: the sweep (deliver) and the RQ worker."""

from __future__ import annotations

import datetime as dt

import click
from flask import current_app
from flask.cli import with_appcontext

from ..state import get_kaleo
from .params import FiniteRange


@click.command("deliver")
@click.option(
    "--older-than",
    "seconds",
    metavar="SECONDS",
    type=FiniteRange(min=0, max=10**8),
    default=None,
    help="Only deliveries waiting longer than this (default KALEO_DELIVERY_STUCK_AFTER).",
)
@with_appcontext
def deliver(seconds: float | None) -> None:
    """Finish invitations whose email never went out (a killed process, a lost job).

    Inline, they are delivered now; queued, they are queued again; those that expired
    waiting go back to their inviters; a resend or reminder the relay refuses puts its
    earlier link back. An email another process is delivering right now (within its
    lease) is left to it. Safe to run from cron, even while workers and another run
    are delivering: each email goes once.
    """
    older_than = None if seconds is None else dt.timedelta(seconds=seconds)
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
    if current_app.config["KALEO_DELIVERY"] != "rq":
        raise click.UsageError("the worker delivers for KALEO_DELIVERY = 'rq' only")
    get_kaleo().work(burst=burst)
