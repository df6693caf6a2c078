"""``flask kaleo ...``: kaleo's two management commands (set-based) and the staff's tools:
allocations, invitations, links, delivery and moderation."""

from __future__ import annotations

from flask.cli import AppGroup

from .allocations import add_invites
from .allocations import infinite_invites
from .allocations import purge_expired
from .allocations import report
from .allocations import set_allocation
from .allocations import topoff_invites
from .delivery import deliver
from .delivery import worker
from .invitations import import_invites
from .invitations import invite
from .lifecycle import extend
from .lifecycle import list_invitations
from .lifecycle import remind
from .lifecycle import resend
from .lifecycle import revoke
from .links import create_link
from .links import revoke_link
from .moderation import audit
from .moderation import resume
from .moderation import suspend
from .moderation import tree

kaleo_cli = AppGroup("kaleo", help="Manage invitations, allocations and moderation (flask-kaleo).")
for command in (
    add_invites,
    topoff_invites,
    infinite_invites,
    report,
    purge_expired,
    invite,
    import_invites,
    remind,
    extend,
    deliver,
    worker,
    create_link,
    revoke_link,
    set_allocation,
    list_invitations,
    revoke,
    resend,
    suspend,
    resume,
    tree,
    audit,
):
    kaleo_cli.add_command(command)
