"""The example app's pages: the story of a private beta, from login to an accepted
invitation, and a development outbox; staff use flask-kaleo's console."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import login_required
from flask_login import login_user
from flask_login import logout_user
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from flask_kaleo import JoinInvitationMixin
from flask_kaleo.config import current_config
from flask_kaleo.exceptions import InvitationForAnotherAddress
from flask_kaleo.exceptions import InvitationNotPending
from flask_kaleo.i18n import isolate

from . import demo
from .forms import LoginForm
from .forms import SignupForm
from .language import N_
from .models import User
from .models import kaleo

bp = Blueprint("example", __name__)


@bp.route("/")
def home() -> str:
    accounts = demo.DEMO_ACCOUNTS if current_app.config["EXAMPLE_SEED_DEMO"] else ()
    return render_template("home.html", demo_accounts=accounts)


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    form = LoginForm()
    if form.validate_on_submit():
        user = kaleo.hooks.member(form.email.data)
        if user is not None and user.check_password(form.password.data):
            login_user(user)
            flash(_("Logged in as %(email)s.", email=isolate(user.email)), "success")
            return redirect(_safe_next() or url_for("example.invitations"), code=303)
        form.password.errors.append(_("That email and password do not match an account."))
    return render_template("login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    logout_user()
    flash(_("Logged out."), "success")
    return redirect(url_for("example.home"), code=303)


@bp.route("/invitations")
@login_required
def invitations() -> str:
    """The three macros, enhanced by flask-kaleo's own script."""
    return render_template("invitations.html", jquery_snippet=False)


@bp.route("/invitations/jquery")
@login_required
def invitations_jquery() -> str:
    """The same macros, enhanced by kaleo's original jQuery snippet instead."""
    return render_template("invitations_jquery.html", jquery_snippet=True)


@bp.route("/signup", methods=["GET", "POST"])
@kaleo.invitation_required  # members go on to "/"; visitors need an invitation
def signup() -> str | Response | tuple[str, int]:
    """Invite-only signup: kaleo.signup creates the user and accepts the invitation in
    one commit."""
    invitation = kaleo.pending_invitation()
    form = SignupForm(email=kaleo.signup_email())  # the invited address, if any
    invited = isinstance(invitation, JoinInvitationMixin)  # a shareable link names nobody
    if invited and current_config().require_invited_email:
        form.email.render_kw = {**(form.email.render_kw or {}), "readonly": True}
    if form.validate_on_submit():
        if kaleo.hooks.member(form.email.data) is not None:
            form.email.errors.append(_(TAKEN))
            return render_template("signup.html", form=form, invitation=invitation)
        password = form.password.data
        try:
            user = kaleo.signup(form.email.data, lambda address: _new_user(address, password))
        except InvitationForAnotherAddress as error:  # still valid: not for this address
            form.email.errors.append(str(error))  # the form again, as for any field error
        except InvitationNotPending as error:  # used, expired or revoked since
            form.email.errors.append(str(error))
            return render_template("signup.html", form=form, invitation=invitation), 410
        except IntegrityError:  # taken by a signup that finished meanwhile
            form.email.errors.append(_(TAKEN))
        else:
            login_user(user)
            flash(
                _("Welcome, %(email)s! Your account is ready.", email=isolate(user.email)),
                "success",
            )
            return redirect(url_for("example.invitations"), code=303)
    return render_template("signup.html", form=form, invitation=invitation)


TAKEN = N_("An account with this email already exists: log in.")


def _new_user(address: str, password: str) -> User:
    user = User(email=address)
    user.set_password(password)
    return user


def _safe_next() -> str | None:
    """Flask-Login's ``next``, only when it stays on this site."""
    target = request.args.get("next", "")
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.netloc:
        return target
    return None


@bp.app_errorhandler(403)
@bp.app_errorhandler(404)
def error_page(error: HTTPException) -> tuple[str, int]:
    return render_template("error.html", error=error), error.code or 500
