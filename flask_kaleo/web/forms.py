"""The forms the macros render: the invite form, and the CSRF token of the small ones.

It only renders: the endpoint reads the posted fields and
:meth:`Kaleo.invite <flask_kaleo.Kaleo.invite>` checks them, once. Between a refused
post from a browser without JavaScript and the page it goes back to, the session
carries what was typed and the errors (and a Resend/Revoke outcome for its row).
"""

from __future__ import annotations

import json
import typing as t

from flask import has_request_context
from flask import session
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms import TextAreaField

from ..i18n import lazy_gettext
from .endpoint import signed_in_id


class InviteForm(FlaskForm):  # type: ignore[misc]
    """``email_address`` and an optional ``message``; the CSRF token comes from Flask-WTF."""

    email_address = StringField(
        lazy_gettext("Email address"),
        render_kw={"inputmode": "email", "autocomplete": "email", "spellcheck": "false"},
    )
    message = TextAreaField(lazy_gettext("Message (optional)"))


TYPED_KEY = "kaleo.typed"
"""Session key of a refused invitation's fields and errors, kept for one page view."""
OUTCOME_KEY = "kaleo.outcome"
"""Session key of the last Resend/Revoke outcome, shown once in its row."""
KEPT_MESSAGE_LENGTH = 2000
"""The longest message kept for the next page (the session is usually a cookie)."""
KEPT_BYTES = 1500
"""At most this much is kept, serialised: a session cookie over about 4 KB is dropped
by the browser, and the refusal with it (JSON writes a CJK character as 6 bytes)."""


def new_invite_form() -> InviteForm:
    """The invite form for the ``invite_form`` macro: empty, or (once) what a browser
    without JavaScript typed before its invitation was refused, with the errors at the
    fields."""
    form = InviteForm(formdata=None)
    typed = session.pop(TYPED_KEY, None) if has_request_context() else None
    if not isinstance(typed, dict) or typed.get("user") != signed_in_id():
        return form  # nothing kept, or kept for someone else at this browser
    form.email_address.data = str(typed.get("email_address", ""))
    form.message.data = str(typed.get("message", ""))
    for name, messages in dict(typed.get("errors", {})).items():
        field = form._fields.get(name)
        if field is None or name == "csrf_token":
            form.form_errors.extend(messages)
        else:
            field.errors = list(messages)
    return form


def keep_typed(fields: t.Mapping[str, str], errors: dict[str, list[str]]) -> None:
    """Keep a refused invitation's fields and errors for the page the browser goes back
    to, for the member who typed them; a message too large for the cookie is not kept
    (the address and the errors are)."""
    typed = {
        "user": signed_in_id(),
        "email_address": fields.get("email_address", "")[:320],
        "message": fields.get("message", "")[:KEPT_MESSAGE_LENGTH],
        "errors": errors,
    }
    if len(json.dumps(typed)) > KEPT_BYTES:
        typed["message"] = ""
    session[TYPED_KEY] = typed


def forget_typed(*args: object, **kwargs: object) -> None:
    """Forget what was kept for the next page (connected to Flask-Login's
    ``user_logged_out``: the next person at this browser must not see it)."""
    if has_request_context():
        session.pop(TYPED_KEY, None)
        session.pop(OUTCOME_KEY, None)


class Outcome(t.NamedTuple):
    """A Resend/Revoke/Extend outcome shown in its row: ``kind`` is ``done`` or
    ``refused`` (the row's class ``kaleo-outcome-<kind>`` colours it)."""

    message: str
    kind: t.Literal["done", "refused"]


def keep_outcome(invitation_id: int, message: str, *, refused: bool = False) -> None:
    """Keep a Resend/Revoke/Extend outcome for the row it is about, on the next page:
    the one place it is shown (nothing is flashed)."""
    session[OUTCOME_KEY] = {"id": invitation_id, "message": message, "refused": refused}


def row_outcome(invitation_id: int) -> Outcome | None:
    """The kept outcome for this row (once), or None."""
    outcome = session.get(OUTCOME_KEY) if has_request_context() else None
    if isinstance(outcome, dict) and outcome.get("id") == invitation_id:
        session.pop(OUTCOME_KEY)
        kind: t.Literal["done", "refused"] = "refused" if outcome.get("refused") else "done"
        return Outcome(str(outcome.get("message", "")), kind)
    return None


def csrf_token() -> str:
    """A CSRF token for the sent list's small forms (with or without CSRFProtect)."""
    from flask_wtf.csrf import generate_csrf

    return t.cast(str, generate_csrf())
