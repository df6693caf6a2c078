"""What the web layer adds to an app at ``init_app``: the template globals and filters
kaleo's templates use, the check of the page settings, and forgetting the visitor's
invitation and typed fields when they log out."""

from __future__ import annotations

import importlib.util

from flask import Flask

from . import jinja
from . import session as visitor
from .forms import csrf_token
from .forms import forget_typed
from .forms import new_invite_form
from .forms import row_outcome
from .pages import check_page_targets_once
from .pages import login_url
from .text import extend_choices
from .text import invitations_left
from .text import state_label


def setup_web(app: Flask, kaleo: object) -> None:
    """Give ``app``'s templates ``kaleo_extension`` (``kaleo``) and kaleo's helpers,
    check the page settings on the first request, and connect Flask-Login's
    ``user_logged_in`` and ``user_logged_out`` (when it is installed)."""
    app.jinja_env.globals.update(
        kaleo_extension=kaleo,
        kaleo_invite_form=new_invite_form,
        kaleo_csrf_token=csrf_token,
        kaleo_row_outcome=row_outcome,
        kaleo_extend_choices=extend_choices,
        kaleo_new_link=visitor.new_link,
    )
    app.jinja_env.filters.update(invitations_left=invitations_left, kaleo_state_label=state_label)
    check_page_targets_once(app)
    app.jinja_env.globals["kaleo_login_url"] = login_url  # kaleo's pages link to log in
    jinja.setup_templates(app)
    if importlib.util.find_spec("flask_login") is not None:
        from flask_login import user_logged_in
        from flask_login import user_logged_out

        user_logged_in.connect(visitor.forget_others_new_link, app)
        user_logged_out.connect(visitor.forget, app)
        user_logged_out.connect(forget_typed, app)
