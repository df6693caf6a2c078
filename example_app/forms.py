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
from wtforms.validators import ValidationError

from flask_kaleo.config import MAX_BULK_AMOUNT


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
    """Staff: top off or add invitations for everyone or one member, or set one
    member's allocation."""

    EVERYONE = "Everyone"

    # Plain strings (value = label = the email): portable across WTForms 3 versions.
    member = SelectField("Who", choices=[EVERYONE], default=EVERYONE)
    amount = IntegerField(
        "How many", default=3, validators=[InputRequired()], render_kw={"inputmode": "numeric"}
    )
    topoff = SubmitField("Top off to")
    add = SubmitField("Add")
    set_to = SubmitField("Set allocation to")

    def validate_amount(self, field: IntegerField) -> None:
        """The staff endpoints' own bound."""
        limit = MAX_BULK_AMOUNT
        if field.data is not None and not 0 <= field.data <= limit:
            raise ValidationError(f"Enter a number from 0 to {limit}.")
