"""A minimal Django 4.2 site around pinax-invitations 8.0.1, for benchmarks/pinax_load.py.

Runs in its own virtualenv, never the project's (pinax-invitations and Django are not
flask-kaleo dependencies):

    python3 -m venv /work/pinax-venv
    /work/pinax-venv/bin/pip install pinax-invitations==8.0.1 'Django>=4.2,<4.3' \\
        gunicorn 'psycopg[binary]'

The site is what the pinax docs ask for: django-user-accounts and pinax.invitations
installed, sessions, CSRF and auth middleware, mail through a backend that sends
nothing (as flask-kaleo's host app suppresses mail), and templates for the three
fragments the invite view renders (pinax ships none; these are minimal ones in the
spirit of pinax-templates). A plain login route signs a member in by address.

    KALEO_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1/kaleo_bench_pinax \\
        python benchmarks/pinax_site.py setup 8 1000000     # schema, 8 members
    python benchmarks/pinax_site.py count                    # SQL statements per invite
    ... gunicorn benchmarks.pinax_site:application ...
    python benchmarks/pinax_site.py teardown                 # drop its tables
"""

from __future__ import annotations

import os
import sys
import urllib.parse

import django
from django.conf import settings

url = urllib.parse.urlsplit(os.environ["KALEO_BENCH_DATABASE_URL"])
TEMPLATES = {
    "pinax/invitations/_invite_form.html": (
        '<form method="post" action="{% url "pinax_invitations:invite" %}"'
        ' class="pinax-invitations-invite-form">{% csrf_token %}{{ form.as_p }}'
        "<button>Send invitation</button></form>"
    ),
    "pinax/invitations/_invites_remaining.html": (
        "{% if invites_remaining == -1 %}unlimited{% else %}{{ invites_remaining }}{% endif %}"
    ),
    "pinax/invitations/_invited.html": (
        '<ul class="pinax-invitations-invites-sent">{% for invite in invited_list %}'
        "<li>{{ invite.to_user_email }} {{ invite.get_status_display }}"
        " {{ invite.sent|date }}</li>{% endfor %}</ul>"
    ),
    "account/email/invite_user_subject.txt": "You are invited to join {{ current_site.name }}",
    "account/email/invite_user.txt": (
        "{{ signup_code.inviter.email }} invites you to {{ current_site.name }}.\n"
        "Sign up here: {{ signup_url }}\n"
    ),
    "page.html": (
        "<!doctype html>{% include 'pinax/invitations/_invite_form.html' %}"
        "<p>({% include 'pinax/invitations/_invites_remaining.html' %})</p>"
        "{% include 'pinax/invitations/_invited.html' %}"
    ),
    "login.html": (
        '<form method="post" action="/login">{% csrf_token %}'
        '<input name="email" type="email"><button>Sign in</button></form>'
    ),
}

settings.configure(
    DEBUG=False,
    SECRET_KEY="benchmark secret",
    ALLOWED_HOSTS=["127.0.0.1", "testserver"],
    ROOT_URLCONF=__name__,
    USE_TZ=True,
    SITE_ID=1,
    INSTALLED_APPS=[
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "django.contrib.sites",
        "account",
        "pinax.invitations",
    ],
    MIDDLEWARE=[
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
    ],
    DATABASES={
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": url.path.lstrip("/"),
            "USER": url.username or "postgres",
            "HOST": url.hostname or "127.0.0.1",
            "PORT": url.port or 5432,
        }
    },
    TEMPLATES=[
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "OPTIONS": {
                "loaders": [("django.template.loaders.locmem.Loader", TEMPLATES)],
                "context_processors": ["django.template.context_processors.request"],
            },
        }
    ],
    EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
    DEFAULT_FROM_EMAIL="invites@example.org",
    PINAX_INVITATIONS_DEFAULT_INVITE_ALLOCATION=0,
)
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth import login  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import HttpRequest  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.shortcuts import render  # noqa: E402
from django.urls import include  # noqa: E402
from django.urls import path  # noqa: E402


def page(request: HttpRequest) -> HttpResponse:
    from pinax.invitations.forms import InviteForm

    return render(
        request,
        "page.html",
        {
            "form": InviteForm(user=request.user),
            "invites_remaining": request.user.invitationstat.invites_remaining(),
            "invited_list": request.user.invites_sent.all(),
        },
    )


def sign_in(request: HttpRequest) -> HttpResponse:
    """Sign in by address alone (a benchmark has no passwords to check)."""
    if request.method == "GET":
        return render(request, "login.html")
    user = get_user_model().objects.filter(email=request.POST["email"]).first()
    if user is None:
        return HttpResponse("no such member", status=403)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return HttpResponse("signed in")


urlpatterns = [
    path("", page),
    path("login", sign_in),
    path("invitations/", include("pinax.invitations.urls", namespace="pinax_invitations")),
    path("account/signup/", page, name="account_signup"),
]

application = WSGIHandler()


def setup(members: int, allocation: int) -> None:
    """The schema and ``members`` members allowed ``allocation`` invitations each."""
    from pinax.invitations.models import InvitationStat

    call_command("migrate", verbosity=0)
    for i in range(members):
        user = get_user_model().objects.create(
            username=f"member{i}", email=f"member{i}@example.com"
        )
        InvitationStat.objects.filter(user=user).update(invites_allocated=allocation)


def statements_per_invite() -> int:
    """The SQL statements of one invite request, counted in process (the most of three,
    after one uncounted request), by member0 (four of its invitations are spent)."""
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.post("/login", {"email": "member0@example.com"})
    counts = []
    for n in range(4):
        with CaptureQueriesContext(connection) as queries:
            response = client.post(
                "/invitations/invite/",
                {"email_address": f"probe{n}@example.net"},
                headers={"X-Requested-With": "XMLHttpRequest"},
            )
        assert response.status_code == 200 and b"errorlist" not in response.content
        counts.append(len(queries))
    return max(counts[1:])


def teardown() -> None:
    """Drop the tables that migrate made, and nothing else."""
    tables = connection.introspection.django_table_names(include_views=False)
    with connection.cursor() as cursor:
        for table in [*tables, "django_migrations"]:
            cursor.execute(f'DROP TABLE IF EXISTS "{table}" CASCADE')


if __name__ == "__main__":
    if sys.argv[1] == "setup":
        setup(int(sys.argv[2]), int(sys.argv[3]))
    elif sys.argv[1] == "count":
        print(statements_per_invite())
    else:
        teardown()
