"""The example app's pages (a first, minimal version)."""

from __future__ import annotations

from flask import Blueprint
from flask import render_template_string
from flask_login import current_user

bp = Blueprint("example", __name__)

PAGE = """<!doctype html>
{% from "kaleo/macros.html" import invite_form, invites_sent, remaining_invites %}
<title>Kaleo Example</title>
{% if current_user.is_authenticated %}
<div class="invites">
  <span class="invitations_remaining">({{ remaining_invites(current_user) }})</span>
  {{ invite_form(current_user) }}
  {{ invites_sent(current_user) }}
</div>
{% else %}<p>Welcome to the Kaleo example.</p>{% endif %}
"""


@bp.route("/")
def home() -> str:
    return render_template_string(PAGE, user=current_user)


@bp.route("/signup")
def signup() -> str:
    return "Sign up (coming soon)"
