"""The example app's own forms (the invite form comes from flask-kaleo)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField
from wtforms import IntegerField
from wtforms import PasswordField
from wtforms import SelectField
from wtforms import SubmitField
from wtforms.validators import DataRequired
from wtforms.validators import EqualTo
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import NumberRange


class LoginForm(FlaskForm):  # type: ignore[misc]
    email = EmailField("Email", validators=[DataRequired()], render_kw={"autocomplete": "email"})
    password = PasswordField(
        "Password", validators=[DataRequired()], render_kw={"autocomplete": "current-password"}
    )


class SignupForm(FlaskForm):  # type: ignore[misc]
    email = EmailField(
        "Email",
        validators=[DataRequired(), Length(max=254)],
        render_kw={"autocomplete": "email"},
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired(), Length(min=8, message="Use at least 8 characters.")],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "Password again",
        validators=[DataRequired(), EqualTo("password", message="The passwords differ.")],
        render_kw={"autocomplete": "new-password"},
    )


class AllocationForm(FlaskForm):  # type: ignore[misc]
    """Staff: top off or add invitations, for everyone or one member."""

    EVERYONE = "Everyone"

    # Plain strings (value = label = the email): portable across WTForms 3 versions.
    member = SelectField("Who", choices=[EVERYONE], default=EVERYONE)
    amount = IntegerField(
        "How many",
        default=3,
        validators=[InputRequired(), NumberRange(min=0, max=1000)],
        render_kw={"min": 0, "max": 1000, "inputmode": "numeric"},
    )
    topoff = SubmitField("Top off to")
    add = SubmitField("Add")
