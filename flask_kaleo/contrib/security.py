"""Flask-Security-Too wiring: its own register and confirm views, invitation-aware.

:func:`wire` connects an app's :class:`~flask_kaleo.Kaleo` to its ``Security``:

- an account created for a visitor who is not signed in (Flask-Security-Too's register
  view, or its ``register_user`` called by the app) accepts the session's pending
  invitation as soon as ``datastore.create_user`` returns it, before
  ``user_registered`` is sent: whatever the app's receivers of that signal do (commit,
  raise), the account and the invitation's use commit together or not at all;
- with ``KALEO_INVITE_ONLY``, such an account is refused without a pending invitation,
  and the register view answers kaleo's 403 page to visitors without one;
- anything raised during a registration through the register view rolls it back, so
  that Flask-Security-Too's after-request commit has nothing to commit;
- a confirmed address (``user_confirmed``, ``change_email_confirmed``) settles other
  members' invitations to it as "joined independently";
- the register form is prefilled with the invited address and, with
  ``KALEO_REQUIRE_INVITED_EMAIL``, refuses another one at the email field.

A signed-in user's requests never use the session's invitation: an account an admin
creates is not the admin's own signup.
"""

from __future__ import annotations

import dataclasses
import functools
import typing as t

from flask import Flask
from flask import has_request_context
from flask import render_template
from flask import request
from flask import session as flask_session
from flask_security import FormInfo
from flask_security import Security
from flask_security import change_email_confirmed
from flask_security import user_confirmed
from wtforms import Field
from wtforms import Form
from wtforms import ValidationError

from ..config import config_of
from ..config import current_config
from ..config import keep
from ..core.accepting import INVITATION_REQUIRED
from ..core.accepting import check_signup_address
from ..exceptions import ConfigurationError
from ..exceptions import InvitationNotPending
from ..i18n import gettext
from ..models import Pending
from ..state import get_kaleo
from ..web.pages import login_url
from ..web.session import SESSION_KEY
from .held_mail import hold_mail_until_commit
from .held_mail import sent_after_commit

__all__ = ["RegistrationRefused", "wire"]

REGISTER_FORMS = ("register_form", "confirm_register_form")
"""The names under which Flask-Security-Too builds its register view's form."""

_WIRED = "kaleo_security"
_PENDING = "kaleo_registering_with"


class RegistrationRefused(Exception):
    """An account was refused, and its transaction rolled back: the invitation stopped
    being pending between the form's check and the accept (a race with another signup,
    a revoke), or ``KALEO_INVITE_ONLY`` is on and the visitor has none. ``wire``
    answers it with kaleo's pages (410 and 403)."""

    def __init__(self, error: InvitationNotPending, state: str | None) -> None:
        super().__init__(str(error))
        self.error = error
        """kaleo's refusal, with its ``code``."""
        self.state = state
        """The invitation's state as the accept left it; None: there was none."""


def wire(app: Flask) -> None:
    """Make Flask-Security-Too's registration and confirmation invitation-aware.

    Call once, after ``kaleo.init_app(app)`` and after Flask-Security-Too is set up on
    ``app`` with ``SECURITY_REGISTERABLE = True`` and a ``SQLAlchemyUserDatastore`` on
    the same ``db`` and user model as kaleo. Unless ``KALEO_SIGNUP_URL`` is set,
    invitations' accept URLs lead to the register view.
    """
    kaleo = app.extensions.get("kaleo")
    security = app.extensions.get("security")
    if kaleo is None or not isinstance(security, Security):
        raise ConfigurationError(
            "flask_kaleo.contrib.security.wire(app) needs kaleo.init_app(app) and"
            " Flask-Security-Too (Security(app, datastore)) set up on the app first"
        )
    if _WIRED in app.extensions:
        raise RuntimeError("flask_kaleo.contrib.security.wire(app) was already called on this app")
    datastore = security.datastore
    if getattr(datastore, "db", None) is not kaleo.db or datastore.user_model is not (
        kaleo.user_model
    ):
        raise ConfigurationError(
            "Flask-Security-Too's datastore must be a SQLAlchemyUserDatastore on kaleo's"
            " db and user model (Kaleo(db=db, user_model=User)), so that the new user and"
            " the accepted invitation commit together"
        )
    blueprint = app.config["SECURITY_BLUEPRINT_NAME"]  # Security set it
    endpoint = f"{blueprint}.register"
    view = app.view_functions.get(endpoint)
    if view is None:
        raise ConfigurationError(
            f"Flask-Security-Too's register view ({endpoint!r}) is not on the app: set"
            " SECURITY_REGISTERABLE = True and let Security register its blueprint"
        )
    app.view_functions[endpoint] = _invite_only(view)
    datastore.create_user = _accepting(datastore.create_user)  # type: ignore[method-assign]
    mail_util = security.mail_util  # its documented place to change how mail leaves
    mail_util.send_mail = sent_after_commit(mail_util.send_mail)  # type: ignore[method-assign]
    for name in REGISTER_FORMS:
        info = security.forms[name]
        security.set_form_info(
            name, FormInfo(instantiator=_prefilled(info.instantiator), cls=info.cls)
        )
    user_confirmed.connect(_confirmed, app)
    change_email_confirmed.connect(_confirmed, app)
    app.register_error_handler(RegistrationRefused, _refused)
    # Security's own pages, unless the app named others (written to app.config too, for
    # whoever reads it): the accept URL leads to its register view, and kaleo's 410
    # pages link to its login view.
    signup_page = app.config.setdefault("KALEO_SIGNUP_URL", endpoint)
    login_page = app.config.setdefault("KALEO_LOGIN_URL", f"{blueprint}.login")
    config = config_of(app)
    keep(app, dataclasses.replace(config, signup_url=signup_page, login_url=login_page))
    app.extensions[_WIRED] = True


F = t.TypeVar("F", bound=t.Callable[..., t.Any])


def _invite_only(view: F) -> F:
    """The register view behind kaleo's invite-only guard, rolled back on any exception;
    a signed-in visitor goes straight to the view, which sends members on as
    Flask-Security-Too does."""

    @functools.wraps(view)
    def register(*args: object, **kwargs: object) -> object:
        kaleo = get_kaleo()
        _pending()  # read once, at the start: the invitation this registration is for
        remembered = flask_session.get(SESSION_KEY)
        try:
            if kaleo.hooks.current_user() is not None:
                return view(*args, **kwargs)
            return kaleo.invitation_required(view)(*args, **kwargs)
        except BaseException:
            # Flask-Security-Too commits after the request even when it ends in an
            # error (a receiver of user_registered that raised): leave it nothing,
            # and let the visitor try again with the invitation the accept forgot.
            kaleo.store.session.rollback()
            if remembered is not None:
                flask_session[SESSION_KEY] = remembered
            raise

    return t.cast(F, register)


def _pending() -> Pending | None:
    """The session's pending invitation as this request first saw it (None for a
    signed-in user). A registration that started with one must accept it, even if it
    stops being pending meanwhile."""
    if not has_request_context():
        return None  # no session, no invitation (a script creating users)
    if _PENDING not in request.environ:  # per request: ``g`` may outlive one
        kaleo = get_kaleo()
        signed_in = kaleo.hooks.current_user() is not None
        request.environ[_PENDING] = None if signed_in else kaleo.pending_invitation()
    return t.cast("Pending | None", request.environ[_PENDING])


CreateUser = t.Callable[..., t.Any]


def _accepting(create_user: CreateUser) -> CreateUser:
    """The datastore's ``create_user``, which for a visitor who is not signed in (a
    registration: ``register_user`` calls it before sending ``user_registered``) also
    accepts the session's invitation in the same transaction, or refuses the account
    under ``KALEO_INVITE_ONLY`` when there is none. Outside a request (``flask users
    create``) and for a signed-in user (an admin page) it creates users as it always
    did."""

    @functools.wraps(create_user)
    def create(*args: object, **kwargs: object) -> t.Any:
        if not has_request_context() or get_kaleo().hooks.current_user() is not None:
            return create_user(*args, **kwargs)
        invitation = _pending()
        if invitation is None and current_config().invite_only:
            raise RegistrationRefused(InvitationNotPending(gettext(INVITATION_REQUIRED)), None)
        user = create_user(*args, **kwargs)
        if invitation is not None:
            _accept(invitation, user)
        return user

    return create


def _accept(invitation: Pending, user: object) -> None:
    """Accept ``invitation`` with the new ``user``, in its transaction; if it can no
    longer be accepted, roll the user back and refuse."""
    kaleo = get_kaleo()
    session = kaleo.store.session
    session.flush()  # the new user's primary key
    hold_mail_until_commit(kaleo.db.session())
    try:
        kaleo.accept(invitation, user)
    except InvitationNotPending as error:
        state = invitation.display_status  # as the accept's re-read left it
        session.rollback()  # no account without the invitation it came with
        raise RegistrationRefused(error, state) from error


Instantiator = t.Callable[..., Form]


def _prefilled(instantiate: Instantiator) -> Instantiator:
    """A form instantiator that fills the email field with the invited address on the
    first display and checks what is posted against it, as :meth:`~flask_kaleo.Kaleo.signup`
    does (with ``KALEO_REQUIRE_INVITED_EMAIL``, another address is an error at the field)."""

    def instantiate_with_invitation(name: str, cls: type[Form] | None, **kwargs: object) -> Form:
        form = instantiate(name, cls, **kwargs)
        field = getattr(form, "email", None)
        invitation = _pending()
        if not isinstance(field, Field) or invitation is None:
            return form
        field.validators = [*field.validators, _invited_address]
        invited = invitation.invited_address
        if invited is None:  # a link names nobody: no address to fill
            return form
        if kwargs.get("formdata") is None and not field.data:
            field.data = invited
        if current_config().require_invited_email:
            field.render_kw = {**(field.render_kw or {}), "readonly": True}
        return form

    return instantiate_with_invitation


def _invited_address(form: Form, field: Field) -> None:
    try:
        check_signup_address(
            get_kaleo().pending_invitation(), field.data if isinstance(field.data, str) else ""
        )
    except InvitationNotPending as error:
        raise ValidationError(str(error)) from None


def _confirmed(app: Flask, user: object, **extra: object) -> None:
    """The user proved their address (confirmation, or a confirmed change of address):
    other members' invitations to it become "joined independently"."""
    kaleo = get_kaleo()
    kaleo.process_independent_joins(user, kaleo.store.user_email(user))


def _refused(error: RegistrationRefused) -> tuple[str, int]:
    """The page of an invitation that can no longer be accepted, as its accept URL shows it;
    the invite-only page when there was none."""
    get_kaleo().store.session.rollback()
    if error.state is None:
        return render_template("kaleo/invite_only.html"), 403
    page = render_template(
        "kaleo/accept_invalid.html", state=error.state, reason=str(error), login_url=login_url()
    )
    return page, 410
