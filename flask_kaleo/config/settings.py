"""The settings themselves: their names and defaults, the names ``init_app`` refuses
with what to write in their place, the fixed constants, and :class:`KaleoConfig`, the
typed and frozen object ``init_app`` reads the settings into."""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing as t

UNLIMITED = -1
"""The allocation that means "no limit"."""

MAX_AMOUNT = 1_000_000
"""The most invitations one bulk operation adds or tops off to: far beyond any real
allocation, and far from the 32-bit limit of the counter columns."""

MAX_BULK_AMOUNT = 1000
"""The largest ``amount`` the staff endpoints accept."""
MESSAGE_MAX_LENGTH = 1000
"""The longest personal message, in characters."""
SUSPENSION_REASON_MAX_LENGTH = 1000
"""The longest reason staff may give for suspending a member's inviting."""
RQ_QUEUE = "kaleo"
"""The RQ queue's name."""
DELIVERY_STUCK_AFTER = dt.timedelta(hours=1)
"""How long ``flask kaleo deliver`` lets an email that never went out wait before it
finishes it (``--older-than`` says otherwise)."""

DELIVERY_MODES = ("inline", "log", "rq", "queue")
QUEUED_MODES = ("rq", "queue")
MEMBER_PRIVACY = (None, "quiet", "notify")
RATE_LIMIT_KEYS = ("member", "address")

Delivery = t.Literal["inline", "log", "rq", "queue"]
MemberPrivacy = t.Literal["quiet", "notify"] | None

DEFAULT_SETTINGS: t.Mapping[str, object] = {
    "KALEO_DEFAULT_EXPIRATION": 168,
    "KALEO_DEFAULT_INVITE_ALLOCATION": 0,
    "KALEO_EXPIRATION_BOUNDS": (dt.timedelta(minutes=15), dt.timedelta(days=30)),
    "KALEO_SIGNUP_URL": "/",
    "KALEO_SIGNED_IN_REDIRECT": "/",
    "KALEO_LOGIN_URL": None,
    "KALEO_INVITE_ONLY": False,
    "KALEO_REQUIRE_INVITED_EMAIL": False,
    "KALEO_ALLOW_LINKS": False,
    "KALEO_MEMBER_PRIVACY": None,
    "KALEO_SHOW_SUSPENSION_REASON": False,
    "KALEO_RATE_LIMITS": {"member": 50, "address": 3},
    "KALEO_RESEND_INTERVAL": dt.timedelta(minutes=5),
    "KALEO_SITE_URL": None,
    # None: the host of the emailed links without its port ("beta.example.com").
    "KALEO_SITE_NAME": None,
    "KALEO_USER_EMAIL_ATTRIBUTE": "email",
    "KALEO_SMTPUTF8": False,
    "KALEO_DELIVERY": "inline",
    "KALEO_DELIVERY_RETRIES": (
        dt.timedelta(minutes=1),
        dt.timedelta(minutes=2),
        dt.timedelta(minutes=4),
    ),
    "KALEO_MAIL_TIMEOUT": dt.timedelta(seconds=10),
    "KALEO_REDIS_URL": "redis://127.0.0.1:6379/0",
}
"""Every setting and its default, as ``app.config`` would hold it."""

REMOVED_SETTINGS: t.Mapping[str, str] = {
    "KALEO_MIN_EXPIRATION": "is replaced by KALEO_EXPIRATION_BOUNDS[0] (a timedelta)",
    "KALEO_MAX_EXPIRATION": "is replaced by KALEO_EXPIRATION_BOUNDS[1] (a timedelta)",
    "KALEO_PRIVATE_REFUSALS": "is replaced by KALEO_MEMBER_PRIVACY = 'quiet'",
    "KALEO_NOTIFY_MEMBERS": "is replaced by KALEO_MEMBER_PRIVACY = 'notify'",
    "KALEO_DAILY_SEND_LIMIT": "is replaced by KALEO_RATE_LIMITS['member']",
    "KALEO_ADDRESS_DAILY_LIMIT": "is replaced by KALEO_RATE_LIMITS['address']",
    "KALEO_MAIL_DEBUG": "is replaced by KALEO_DELIVERY = 'log'",
    "KALEO_DELIVERY_ATTEMPTS": "is replaced by KALEO_DELIVERY_RETRIES (the waits"
    " between attempts: one attempt more than it holds)",
    "KALEO_DELIVERY_BACKOFF": "is replaced by KALEO_DELIVERY_RETRIES (the waits between"
    " attempts, such as (timedelta(minutes=1), timedelta(minutes=2)))",
    "KALEO_EMAIL_SUBJECT": "is replaced by the template kaleo/email/invitation_subject.txt",
    "KALEO_EMAIL_SENDER": "is replaced by Flask-Mail's MAIL_DEFAULT_SENDER",
    "KALEO_EMAIL_TEXT_TEMPLATE": "is replaced by your own kaleo/email/invitation.txt"
    " in the app's templates folder",
    "KALEO_EMAIL_HTML_TEMPLATE": "is replaced by your own kaleo/email/invitation.html"
    " in the app's templates folder",
    "KALEO_MESSAGE_MAX_LENGTH": "is no longer a setting: a message holds at most"
    f" {MESSAGE_MAX_LENGTH} characters",
    "KALEO_CLI_NAME": "is no longer a setting: the commands are always 'flask kaleo'",
    "KALEO_MAX_BULK_AMOUNT": "is no longer a setting: the staff endpoints accept at most"
    f" {MAX_BULK_AMOUNT}",
    "KALEO_RQ_QUEUE": f"is no longer a setting: the RQ queue is always {RQ_QUEUE!r}",
    "KALEO_DELIVERY_STUCK_AFTER": "is no longer a setting: give 'flask kaleo deliver"
    " --older-than' a duration instead (default 1 hour)",
    "KALEO_RESEND_RESETS_EXPIRY": "is no longer a setting: a resend keeps the expiry;"
    " extend the invitation to give it more time",
    "KALEO_MIGRATE_RENDER_ITEM": "is no longer a setting: a render_item your app gives"
    " Flask-Migrate is asked first",
}
"""Each setting name ``init_app`` refuses, and what to write instead."""

PAGE_TARGETS = ("KALEO_SIGNUP_URL", "KALEO_SIGNED_IN_REDIRECT", "KALEO_LOGIN_URL")
"""Settings naming a page by endpoint or path; their endpoints are checked once the
app serves (:func:`flask_kaleo.web.pages.check_page_targets`)."""

EXTENSION_KEY = "kaleo.config"
"""Where ``app.extensions`` holds the app's :class:`KaleoConfig`."""


@dataclasses.dataclass(frozen=True)
class RateLimits:
    """Emails per 24 hours (a sliding window); None is no limit."""

    member: int | None = 50
    """Emails one member may cause."""
    address: int | None = 3
    """Emails one address may receive, across all inviters."""


@dataclasses.dataclass(frozen=True)
class KaleoConfig:
    """The app's ``KALEO_*`` settings, typed and checked (see :doc:`settings`)."""

    default_expiration: dt.timedelta
    default_invite_allocation: int
    expiration_bounds: tuple[dt.timedelta, dt.timedelta]
    signup_url: str
    signed_in_redirect: str | None
    login_url: str | None
    invite_only: bool
    require_invited_email: bool
    allow_links: bool
    member_privacy: MemberPrivacy
    show_suspension_reason: bool
    rate_limits: RateLimits
    resend_interval: dt.timedelta
    site_url: str | None
    site_name: str | None
    user_email_attribute: str
    smtputf8: bool
    delivery: Delivery
    delivery_retries: tuple[dt.timedelta, ...]
    mail_timeout: dt.timedelta
    redis_url: str

    @property
    def hides_members(self) -> bool:
        """A member's address is answered like a stranger's (``quiet`` or ``notify``)."""
        return self.member_privacy is not None

    @property
    def notifies_members(self) -> bool:
        """The member is sent a short notice (``notify``)."""
        return self.member_privacy == "notify"

    @property
    def queued(self) -> bool:
        """Emails leave from a queue, after the request."""
        return self.delivery in QUEUED_MODES

    @property
    def delivery_attempts(self) -> int:
        """Attempts of a queued delivery: one more than the waits between them."""
        return len(self.delivery_retries) + 1

    def page_target(self, setting: str) -> str | None:
        """The value of one of the page settings (``KALEO_SIGNUP_URL``,
        ``KALEO_SIGNED_IN_REDIRECT``, ``KALEO_LOGIN_URL``), by its name."""
        return {
            "KALEO_SIGNUP_URL": self.signup_url,
            "KALEO_SIGNED_IN_REDIRECT": self.signed_in_redirect,
            "KALEO_LOGIN_URL": self.login_url,
        }[setting]
