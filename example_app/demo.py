"""Demo accounts, created once on an empty database and printed on the console."""

from __future__ import annotations

import click
import sqlalchemy as sa

from .extensions import db
from .models import User
from .models import kaleo

#: (email, password, is_staff, invitations): the staff user has unlimited invitations.
DEMO_ACCOUNTS = (
    ("staff@example.com", "staff-password", True, -1),
    ("alice@example.com", "alice-password", False, 3),
    ("bob@example.com", "bob-password", False, 1),
)
#: The demo accounts' display names, which their invitation emails show.
DEMO_NAMES = {
    "staff@example.com": "Sam Staff",
    "alice@example.com": "Alice Martin",
    "bob@example.com": "Bob Dupont",
}


def seed_once() -> bool:
    """Create the demo accounts unless the site already has users; True if it did."""
    if db.session.scalar(sa.select(sa.func.count()).select_from(User)):
        return False
    for email, password, is_staff, invitations in DEMO_ACCOUNTS:
        add_member(email, password, invitations, is_staff=is_staff, name=DEMO_NAMES[email])
    print_accounts()
    return True


def add_member(
    email: str, password: str, invitations: int, *, is_staff: bool = False, name: str = ""
) -> User:
    """A committed user with ``invitations`` to send (-1: unlimited), named ``name``
    in the emails (empty: by address)."""
    user = User(email=email, is_staff=is_staff, name=name)
    user.set_password(password)
    db.session.add(user)
    kaleo.set_allocation(user, invitations)  # flushes the user, then commits both
    return user


def print_accounts() -> None:
    click.echo("\nflask-kaleo example: demo accounts created (email / password):")
    for email, password, is_staff, invitations in DEMO_ACCOUNTS:
        role = (
            "staff, unlimited invitations"
            if is_staff
            else f"{invitations} invitation" + ("" if invitations == 1 else "s")
        )
        click.echo(f"  {email:<22} {password:<16} ({role})")
    click.echo("Invitation emails are not sent: read them at /outbox.\n")
