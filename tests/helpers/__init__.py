"""The test suite's helpers, one module per concern; every name is also importable from
``tests.helpers`` itself. Fixtures and hooks live in conftest.py; the host app in
hostapp.py; the browser tests' steps in e2e/story.py.

- ``run``: what a missing service does, the deadline (``WAIT``), a call with a deadline,
  the checkout's instance folders left alone;
- ``extension``: the ``Kaleo`` of the app under test, found through the app;
- ``users``: members, signed in or out, counted;
- ``http``: the CSRF token, the invite form, the ERROR assertion, live-server clients,
  a visitor who follows a link and signs up;
- ``invitations``: invitations in any state, read back, aged or expired; signals;
- ``database``: the schema, the rows cleared, counters checked against rows, statements;
- ``mail``: accept links, email text, a real SMTP server, a relay that never answers;
- ``processes``: free ports, the queue tests' Redis, commands run against the test app;
- ``races``: threads let go at once at a barrier, clients of a live server inviting at
  once;
- ``i18n``: the shipped locales, Flask-Babel on the host app, a visitor's language;
- ``html``: markup parsed into a small tree to query;
- ``config``: a running test app's settings changed;
- ``links``: shareable links made, joined, posted and expired.
"""

from tests.helpers.config import reconfigure
from tests.helpers.database import SPENT
from tests.helpers.database import Statements
from tests.helpers.database import assert_counters_match_rows
from tests.helpers.database import build_schema
from tests.helpers.database import clear_rows
from tests.helpers.database import drop_everything
from tests.helpers.database import link_counts
from tests.helpers.database import stat_row
from tests.helpers.extension import current_kaleo
from tests.helpers.extension import kaleo_of
from tests.helpers.html import VOID
from tests.helpers.html import Node
from tests.helpers.html import TreeBuilder
from tests.helpers.html import parse
from tests.helpers.http import AJAX
from tests.helpers.http import BROWSER
from tests.helpers.http import ERRORS
from tests.helpers.http import Browser
from tests.helpers.http import Reply
from tests.helpers.http import assert_error
from tests.helpers.http import csrf_token
from tests.helpers.http import join
from tests.helpers.http import post_invite
from tests.helpers.http import signed_in_session
from tests.helpers.i18n import LOCALES
from tests.helpers.i18n import choose_locale
from tests.helpers.i18n import speaking
from tests.helpers.i18n import with_babel
from tests.helpers.invitations import STATES
from tests.helpers.invitations import age
from tests.helpers.invitations import expire
from tests.helpers.invitations import invitation_columns
from tests.helpers.invitations import invitation_count
from tests.helpers.invitations import invitation_to
from tests.helpers.invitations import lapse_lease
from tests.helpers.invitations import link_for
from tests.helpers.invitations import make_invitation
from tests.helpers.invitations import make_invitations
from tests.helpers.invitations import received
from tests.helpers.links import expire_link
from tests.helpers.links import join_as
from tests.helpers.links import new_link
from tests.helpers.links import path_of
from tests.helpers.links import post_link
from tests.helpers.links import reload_link
from tests.helpers.mail import LINK
from tests.helpers.mail import SilentRelay
from tests.helpers.mail import SMTPServer
from tests.helpers.mail import accept_link
from tests.helpers.mail import mail_relay
from tests.helpers.mail import message_text
from tests.helpers.processes import BIN
from tests.helpers.processes import CELERY_REDIS_URL
from tests.helpers.processes import REDIS_URLS
from tests.helpers.processes import ROOT
from tests.helpers.processes import RQ_REDIS_URL
from tests.helpers.processes import empty_redis
from tests.helpers.processes import free_port
from tests.helpers.processes import redis_contents
from tests.helpers.processes import run_at_once
from tests.helpers.processes import run_command
from tests.helpers.processes import worker_env
from tests.helpers.races import POOL
from tests.helpers.races import invite_all
from tests.helpers.races import race
from tests.helpers.run import CHECKOUT
from tests.helpers.run import INSTANCE_FOLDERS
from tests.helpers.run import REQUIRE_ALL
from tests.helpers.run import WAIT
from tests.helpers.run import assert_instance_untouched
from tests.helpers.run import instance_files
from tests.helpers.run import returns
from tests.helpers.run import skip_or_fail
from tests.helpers.users import SetHook
from tests.helpers.users import UserHook
from tests.helpers.users import fresh
from tests.helpers.users import login
from tests.helpers.users import logout
from tests.helpers.users import make_user
from tests.helpers.users import new_user
from tests.helpers.users import signed_in
from tests.helpers.users import user_count

__all__ = [
    "AJAX",
    "BIN",
    "BROWSER",
    "Browser",
    "CELERY_REDIS_URL",
    "CHECKOUT",
    "ERRORS",
    "INSTANCE_FOLDERS",
    "LINK",
    "LOCALES",
    "Node",
    "POOL",
    "REDIS_URLS",
    "REQUIRE_ALL",
    "ROOT",
    "RQ_REDIS_URL",
    "Reply",
    "SMTPServer",
    "SPENT",
    "STATES",
    "SetHook",
    "SilentRelay",
    "Statements",
    "TreeBuilder",
    "UserHook",
    "VOID",
    "WAIT",
    "accept_link",
    "age",
    "assert_counters_match_rows",
    "assert_error",
    "assert_instance_untouched",
    "build_schema",
    "choose_locale",
    "clear_rows",
    "csrf_token",
    "current_kaleo",
    "drop_everything",
    "empty_redis",
    "expire",
    "expire_link",
    "free_port",
    "fresh",
    "instance_files",
    "invitation_columns",
    "invitation_count",
    "invitation_to",
    "invite_all",
    "join",
    "join_as",
    "kaleo_of",
    "lapse_lease",
    "link_counts",
    "link_for",
    "login",
    "logout",
    "mail_relay",
    "make_invitation",
    "make_invitations",
    "make_user",
    "message_text",
    "new_link",
    "new_user",
    "parse",
    "path_of",
    "post_invite",
    "post_link",
    "race",
    "received",
    "reconfigure",
    "redis_contents",
    "reload_link",
    "returns",
    "run_at_once",
    "run_command",
    "signed_in",
    "signed_in_session",
    "skip_or_fail",
    "speaking",
    "stat_row",
    "user_count",
    "with_babel",
    "worker_env",
]
