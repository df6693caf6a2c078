"""The ``kaleo`` blueprint: every route, registered here and nowhere else."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint

from . import console_invitations
from . import console_members
from . import console_overview
from . import console_reports
from . import link_views
from . import staff
from . import staff_api
from . import views
from .answers import register_error_handlers
from .endpoint import ROUTED_METHODS

PACKAGE = Path(__file__).resolve().parent.parent
"""The ``flask_kaleo`` folder: the blueprint's root, where ``static/`` is."""


def _template_folder() -> str:
    """The templates inside an installed wheel, or the top-level ``templates/`` of a
    source checkout (an editable install)."""
    packaged = PACKAGE / "templates"
    return str(packaged if packaged.is_dir() else PACKAGE.parent / "templates")


blueprint = Blueprint(
    "kaleo",
    __name__,
    root_path=str(PACKAGE),
    template_folder=_template_folder(),
    static_folder="static",
    static_url_path="/static",
)

ROUTES = (
    ("/invite", views.invite),
    ("/accept/<token>", views.accept),
    ("/resend/<invitation_id>", views.resend),
    ("/revoke/<invitation_id>", views.revoke),
    ("/extend/<invitation_id>", views.extend),
    ("/staff/topoff", staff.staff_topoff),
    ("/staff/add", staff.staff_add),
    ("/staff/stat/<user>", staff.staff_stat),
    ("/staff/", console_overview.console_overview),
    ("/staff/members", console_members.console_members),
    ("/staff/members/<user_id>", console_members.console_member),
    ("/staff/members/<user_id>/allocation", console_members.console_allocation),
    ("/staff/members/<user_id>/suspend", console_members.console_suspend),
    ("/staff/members/<user_id>/resume", console_members.console_resume),
    ("/staff/invitations", console_invitations.console_invitations),
    ("/staff/invitations/act", console_invitations.console_invitations_act),
    ("/staff/invitations.csv", console_invitations.console_invitations_csv),
    ("/staff/accountability", console_reports.console_accountability),
    ("/staff/audit", console_reports.console_audit),
    # The staff JSON reads and moderation actions.
    ("/staff/api/members", staff_api.staff_members),
    ("/staff/api/invitations", staff_api.staff_invitations),
    ("/staff/api/tree/<user>", staff_api.staff_tree),
    ("/staff/api/audit", staff_api.staff_audit),
    ("/staff/api/accountability", staff_api.staff_accountability),
    ("/staff/api/suspend", staff_api.staff_suspend),
    ("/staff/api/resume", staff_api.staff_resume),
    ("/links", link_views.create_link),
    ("/links/<link_id>/revoke", link_views.revoke_link),
    ("/join/<token>", link_views.join),
)
for rule, view in ROUTES:
    blueprint.add_url_rule(rule, view_func=view, methods=ROUTED_METHODS)
register_error_handlers(blueprint)
