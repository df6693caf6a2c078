"""Flask-Security-Too wiring: its own register and confirm views, invitation-aware.

:func:`wire` connects an app's :class:`~flask_kaleo.Kaleo` to its ``Security``:

- registering through Flask-Security-Too's register view accepts the session's
  pending invitation in the transaction that creates the user (its
  ``user_registered`` signal is sent before the view commits);
- a confirmed address (``user_confirmed``, ``change_email_confirmed``) settles other
  members' invitations to it as "joined independently"; without
  ``SECURITY_CONFIRMABLE`` the address registered is taken as it is;
- with ``KALEO_INVITE_ONLY`` the register view answers kaleo's 403 page to visitors
  without a pending invitation;
- the register form is prefilled with the invited address and, with
  ``KALEO_REQUIRE_INVITED_EMAIL``, refuses another one at the email field.
"""

from __future__ import annotations

import functools
import logging
import typing as t

import sqlalchemy as sa
from flask import Flask
from flask import current_app
from flask import has_request_context
from flask import render_template
from flask import request
from flask_security import FormInfo
from flask_security import Security
from flask_security import change_email_confirmed
from flask_security import user_confirmed
from flask_security import user_registered
from wtforms import Field
from wtforms import Form
from wtforms import ValidationError

from .exceptions import ConfigurationError
from .exceptions import InvitationNotPending
from .links import InvitationLinkMixin
from .models import JoinInvitationMixin
from .settings import DEFAULT_SETTINGS
from .state import get_kaleo

__all__ = ["wire"]

REGISTER_FORMS = ("register_form", "confirm_register_form")
"""The names under which Flask-Security-Too builds its register view's form."""

_WIRED = "kaleo_security"
_PENDING = "kaleo_registering_with"
_HELD_MAIL = "kaleo_mail_after_commit"

logger = logging.getLogger(__name__)


class RegistrationRefused(Exception):
    """The invitation stopped being pending between the form's check and the accept (a
    race with another signup, a revoke): the registration is rolled back."""

    def __init__(self, error: InvitationNotPending, state: str) -> None:
        super().__init__(str(error))
        self.state = state


def wire(app: Flask) -> None:
    """Make Flask-Security-Too's registration and confirmation invitation-aware.

    Call once, after ``kaleo.init_app(app)`` and after Flask-Security-Too is set up on
    ``app`` with ``SECURITY_REGISTERABLE = True`` and a ``SQLAlchemyUserDatastore`` on
    the same ``db`` and user model as kaleo. Unless ``KALEO_SIGNUP_URL`` is set,
    invitation links lead to the register view.
    """
    kaleo = app.extensions.get("kaleo")
    security = app.extensions.get("security")
    if kaleo is None or not isinstance(security, Security):
        raise ConfigurationError(
            "flask_kaleo.security.wire(app) needs kaleo.init_app(app) and Flask-Security-Too"
            " (Security(app, datastore)) set up on the app first"
        )
    if _WIRED in app.extensions:
        raise RuntimeError("flask_kaleo.security.wire(app) was already called on this app")
    datastore = security.datastore
    if getattr(datastore, "db", None) is not kaleo.db or datastore.user_model is not (
        kaleo.user_model
    ):
        raise ConfigurationError(
            "Flask-Security-Too's datastore must be a SQLAlchemyUserDatastore on kaleo's"
            " db and user model (Kaleo(db=db, user_model=User)), so that the new user and"
            " the accepted invitation commit together"
        )
    endpoint = f"{app.config['SECURITY_BLUEPRINT_NAME']}.register"  # Security set it
    view = app.view_functions.get(endpoint)
    if view is None:
        raise ConfigurationError(
            f"Flask-Security-Too's register view ({endpoint!r}) is not on the app: set"
            " SECURITY_REGISTERABLE = True and let Security register its blueprint"
        )
    app.view_functions[endpoint] = _invite_only(view)
    mail_util = security.mail_util  # its documented place to change how mail leaves
    mail_util.send_mail = _sent_after_commit(mail_util.send_mail)  # type: ignore[method-assign]
    for name in REGISTER_FORMS:
        info = security.forms[name]
        security.set_form_info(
            name, FormInfo(instantiator=_prefilled(info.instantiator), cls=info.cls)
        )
    user_registered.connect(_registered, app)
    user_confirmed.connect(_confirmed, app)
    change_email_confirmed.connect(_confirmed, app)
    app.register_error_handler(RegistrationRefused, _refused)
    if app.config["KALEO_SIGNUP_URL"] == DEFAULT_SETTINGS["KALEO_SIGNUP_URL"]:
        app.config["KALEO_SIGNUP_URL"] = endpoint
    app.extensions[_WIRED] = True


F = t.TypeVar("F", bound=t.Callable[..., t.Any])


def _invite_only(view: F) -> F:
    """The register view behind kaleo's invite-only guard; a signed-in visitor goes
    straight to the view, which sends members on as Flask-Security-Too does."""

    @functools.wraps(view)
    def register(*args: t.Any, **kwargs: t.Any) -> t.Any:
        kaleo = get_kaleo()
        _pending()  # read once, at the start: the invitation this registration is for
        if kaleo.current_user() is not None:
            return view(*args, **kwargs)
        return kaleo.invitation_required(view)(*args, **kwargs)

    return t.cast(F, register)


def _pending() -> JoinInvitationMixin | InvitationLinkMixin | None:
    """The session's pending invitation as this request first saw it. A registration
    that started with one must accept it, even if it stops being pending meanwhile."""
    if not has_request_context():
        return None  # no session, no invitation (a script calling register_user)
    if _PENDING not in request.environ:  # per request: ``g`` may outlive one
        request.environ[_PENDING] = get_kaleo().pending_invitation()
    return t.cast("JoinInvitationMixin | InvitationLinkMixin | None", request.environ[_PENDING])


Instantiator = t.Callable[..., Form]


def _prefilled(instantiate: Instantiator) -> Instantiator:
    """A form instantiator that fills the email field with the invited address on the
    first display and checks what is posted with :meth:`~flask_kaleo.Kaleo.signup_email`
    (with ``KALEO_REQUIRE_INVITED_EMAIL``, another address is an error at the field)."""

    def instantiate_with_invitation(name: str, cls: type[Form] | None, **kwargs: t.Any) -> Form:
        form = instantiate(name, cls, **kwargs)
        field = getattr(form, "email", None)
        invitation = _pending()
        if not isinstance(field, Field) or invitation is None:
            return form
        field.validators = [*field.validators, _invited_address]
        if isinstance(invitation, InvitationLinkMixin):  # names nobody: no address to fill
            return form
        if kwargs.get("formdata") is None and not field.data:
            field.data = invitation.email
        if current_app.config["KALEO_REQUIRE_INVITED_EMAIL"]:
            field.render_kw = {**(field.render_kw or {}), "readonly": True}
        return form

    return instantiate_with_invitation


def _invited_address(form: Form, field: Field) -> None:
    try:
        get_kaleo().signup_email(field.data if isinstance(field.data, str) else "")
    except InvitationNotPending as error:
        raise ValidationError(str(error)) from None


def _registered(app: Flask, user: t.Any, **extra: t.Any) -> None:
    """Inside Flask-Security-Too's ``register_user``, before its view commits: accept the
    pending invitation with the new user; without confirmation, the address counts."""
    kaleo = get_kaleo()
    session = kaleo.store.session
    invitation = _pending()
    session.flush()  # the new user's primary key
    if invitation is not None:
        _hold_mail_until_commit(kaleo.db.session())
        try:
            kaleo.accept(invitation, user)
        except InvitationNotPending as error:
            state = invitation.display_status  # as the accept's re-read left it
            session.rollback()  # no account without the invitation it came with
            raise RegistrationRefused(error, state) from error
    if not app.extensions["security"].confirmable:
        kaleo.process_independent_joins(user, kaleo.store.user_email(user))


Send = t.Callable[..., None]


def _sent_after_commit(send: Send) -> Send:
    """Flask-Security-Too's ``MailUtil.send_mail``, holding its messages while a
    registration's accept keeps rows locked (see :func:`_hold_mail_until_commit`)."""

    @functools.wraps(send)
    def send_mail(*args: t.Any, **kwargs: t.Any) -> None:
        held = request.environ.get(_HELD_MAIL) if has_request_context() else None
        if held is None:
            send(*args, **kwargs)
        else:
            held.append(functools.partial(send, *args, **kwargs))

    return send_mail


def _hold_mail_until_commit(session: sa.orm.Session) -> None:
    """Until this transaction ends, Flask-Security-Too's emails wait: they leave once
    it commits (its register view commits after ``register_user`` returns, and sends
    the welcome and confirmation emails before that) and are dropped if it rolls back,
    as the account they speak of then does not exist."""
    held: list[t.Callable[[], None]] = []
    environ = request.environ
    environ[_HELD_MAIL] = held

    def release(session: sa.orm.Session) -> None:
        """Send what was held. The account is committed by now: an email that fails
        is logged (as a failed send outside a transaction would be), not raised, so
        the registration still succeeds and the other emails still leave."""
        if environ.get(_HELD_MAIL) is held:
            del environ[_HELD_MAIL]
        while held:
            try:
                held.pop(0)()
            except Exception:
                logger.exception("flask-kaleo: a Flask-Security-Too email was not sent")

    def drop(session: sa.orm.Session) -> None:
        if environ.get(_HELD_MAIL) is held:
            del environ[_HELD_MAIL]
        held.clear()

    sa.event.listen(session, "after_commit", release, once=True)
    sa.event.listen(session, "after_rollback", drop, once=True)


def _confirmed(app: Flask, user: t.Any, **extra: t.Any) -> None:
    """The user proved their address (confirmation, or a confirmed change of address):
    other members' invitations to it become "joined independently"."""
    kaleo = get_kaleo()
    kaleo.process_independent_joins(user, kaleo.store.user_email(user))


def _refused(error: RegistrationRefused) -> tuple[str, int]:
    """The page of an invitation that can no longer be accepted, as the link shows it."""
    get_kaleo().store.session.rollback()
    page = render_template("kaleo/accept_invalid.html", state=error.state, reason=str(error))
    return page, 410
