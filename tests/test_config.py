"""Setting the extension up: settings checked at init_app, models
built from the app's own user model, custom models, and apps without Flask-Login.

The checks of ``init_app`` read no database, so those tests use a bare Flask app and a
``Kaleo`` of their own; the tests that build their own models use their own
``SQLAlchemy()`` (the shared metadata of tests.hostapp is never touched).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib.util
import re
import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask import g
from flask import render_template_string
from flask_mail import Mail
from flask_sqlalchemy import SQLAlchemy

from flask_kaleo import AlreadyMember
from flask_kaleo import InvitingNotAllowed
from flask_kaleo import Kaleo
from flask_kaleo import blueprint
from flask_kaleo.config import DEFAULT_SETTINGS
from flask_kaleo.config import REMOVED_SETTINGS
from flask_kaleo.config import KaleoConfig
from flask_kaleo.config import RateLimits
from flask_kaleo.config import config_of
from flask_kaleo.config import current_config
from flask_kaleo.exceptions import ConfigurationError
from flask_kaleo.models import JoinInvitationMixin
from tests.helpers import AJAX
from tests.helpers import csrf_token
from tests.helpers import kaleo_of
from tests.helpers import make_user
from tests.hostapp import User
from tests.hostapp import create_app
from tests.hostapp import db


def bare_app(**config: t.Any) -> Flask:
    """An app of its own, in testing mode (links may use the request's host)."""
    app = Flask(__name__)
    app.config.update(TESTING=True)
    app.config.update(config)
    return app


H = dt.timedelta(hours=1)
NEVER_MIND = dt.timedelta(0)


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("KALEO_DEFAULT_EXPIRATION", -1),
        ("KALEO_DEFAULT_EXPIRATION", 0),
        ("KALEO_DEFAULT_EXPIRATION", True),
        ("KALEO_DEFAULT_EXPIRATION", "168"),
        ("KALEO_DEFAULT_EXPIRATION", None),
        ("KALEO_DEFAULT_EXPIRATION", float("nan")),
        ("KALEO_DEFAULT_EXPIRATION", float("inf")),
        ("KALEO_DEFAULT_EXPIRATION", NEVER_MIND),
        ("KALEO_DEFAULT_EXPIRATION", -H),
        ("KALEO_EXPIRATION_BOUNDS", None),
        ("KALEO_EXPIRATION_BOUNDS", (H,)),
        ("KALEO_EXPIRATION_BOUNDS", (H, 2 * H, 3 * H)),
        ("KALEO_EXPIRATION_BOUNDS", (0.25, 720)),  # hours: a timedelta is asked for
        ("KALEO_EXPIRATION_BOUNDS", (NEVER_MIND, 200 * H)),
        ("KALEO_EXPIRATION_BOUNDS", (200 * H, 170 * H)),  # shortest after longest
        ("KALEO_EXPIRATION_BOUNDS", "15m..30d"),
        ("KALEO_RESEND_INTERVAL", 300),  # seconds: a timedelta is asked for
        ("KALEO_RESEND_INTERVAL", 0),
        ("KALEO_RESEND_INTERVAL", True),
        ("KALEO_RESEND_INTERVAL", "5m"),
        ("KALEO_RESEND_INTERVAL", -H),
        ("KALEO_REQUIRE_INVITED_EMAIL", "yes"),
        ("KALEO_REQUIRE_INVITED_EMAIL", 1),
        ("KALEO_ALLOW_LINKS", None),
        ("KALEO_SMTPUTF8", 0),
        ("KALEO_MEMBER_PRIVACY", True),
        ("KALEO_MEMBER_PRIVACY", "private"),
        ("KALEO_MEMBER_PRIVACY", "QUIET"),
        ("KALEO_MEMBER_PRIVACY", ""),
        ("KALEO_SHOW_SUSPENSION_REASON", "yes"),
        ("KALEO_SHOW_SUSPENSION_REASON", None),
        ("KALEO_RATE_LIMITS", None),
        ("KALEO_RATE_LIMITS", 50),
        ("KALEO_RATE_LIMITS", [("member", 5)]),
        ("KALEO_RATE_LIMITS", {"members": 5}),  # an unknown key
        ("KALEO_RATE_LIMITS", {"member": 0}),
        ("KALEO_RATE_LIMITS", {"member": -1}),
        ("KALEO_RATE_LIMITS", {"member": 2.5}),
        ("KALEO_RATE_LIMITS", {"member": True}),
        ("KALEO_RATE_LIMITS", {"member": "50"}),
        ("KALEO_RATE_LIMITS", {"address": 0}),
        ("KALEO_RATE_LIMITS", {"address": 3.0}),
        ("KALEO_RATE_LIMITS", {"address": False}),
        ("KALEO_DEFAULT_INVITE_ALLOCATION", 2.5),
        ("KALEO_DEFAULT_INVITE_ALLOCATION", "5"),
        ("KALEO_DEFAULT_INVITE_ALLOCATION", True),
        ("KALEO_DEFAULT_INVITE_ALLOCATION", None),
        ("KALEO_DEFAULT_INVITE_ALLOCATION", -2),
        ("KALEO_SIGNUP_URL", ""),
        ("KALEO_SIGNUP_URL", None),
        ("KALEO_SIGNUP_URL", 42),
        ("KALEO_INVITE_ONLY", "yes"),
        ("KALEO_INVITE_ONLY", 1),
        ("KALEO_INVITE_ONLY", None),
        ("KALEO_USER_EMAIL_ATTRIBUTE", "mail"),
        ("KALEO_USER_EMAIL_ATTRIBUTE", "is_authenticated"),  # a property, not a column
        ("KALEO_USER_EMAIL_ATTRIBUTE", None),
        ("KALEO_SITE_URL", "example.com"),
        ("KALEO_SITE_URL", "ftp://example.com"),
        ("KALEO_SITE_URL", "https://"),
        ("KALEO_SITE_URL", 42),
        ("KALEO_SITE_NAME", ""),
        ("KALEO_SITE_NAME", 42),
        ("KALEO_DELIVERY", "smtp"),
        ("KALEO_DELIVERY", None),
        ("KALEO_DELIVERY", "LOG"),
        ("KALEO_MAIL_TIMEOUT", NEVER_MIND),
        ("KALEO_MAIL_TIMEOUT", -H),
        ("KALEO_MAIL_TIMEOUT", 10),  # seconds: a timedelta is asked for
        ("KALEO_MAIL_TIMEOUT", "10"),
        ("KALEO_MAIL_TIMEOUT", True),
        ("KALEO_DELIVERY_RETRIES", None),
        ("KALEO_DELIVERY_RETRIES", 3),
        ("KALEO_DELIVERY_RETRIES", [60, 120]),  # seconds: timedeltas are asked for
        ("KALEO_DELIVERY_RETRIES", [H, -H]),
        ("KALEO_DELIVERY_RETRIES", "1m 2m"),
        ("KALEO_DELIVERY_RETRIES", [H] * 100),  # more than 100 attempts
        ("KALEO_REDIS_URL", ""),
        ("KALEO_REDIS_URL", None),
        ("KALEO_SIGNED_IN_REDIRECT", ""),
        ("KALEO_SIGNED_IN_REDIRECT", 42),
        ("KALEO_LOGIN_URL", ""),
        ("KALEO_LOGIN_URL", ["/login"]),
    ],
)
def test_bad_setting_fails_at_init_app_naming_it_its_type_and_default(
    setting: str, value: t.Any
) -> None:
    kaleo = Kaleo(db=db, user_model=User)
    app = bare_app(**{setting: value})
    with pytest.raises(ConfigurationError, match=f"^{setting} must be ") as raised:
        kaleo.init_app(app)
    default = DEFAULT_SETTINGS[setting]
    shown = repr(default).replace("datetime.timedelta", "timedelta")
    assert f"(default {shown}), not {value!r}" in str(raised.value)
    assert "kaleo" not in app.extensions


@pytest.mark.parametrize(
    ("setting", "value", "read"),
    [
        ("KALEO_DEFAULT_EXPIRATION", 1, ("default_expiration", H)),
        ("KALEO_DEFAULT_EXPIRATION", 0.5, ("default_expiration", H / 2)),
        ("KALEO_DEFAULT_EXPIRATION", 36 * H, ("default_expiration", 36 * H)),
        ("KALEO_EXPIRATION_BOUNDS", [H, 200 * H], ("expiration_bounds", (H, 200 * H))),
        ("KALEO_DEFAULT_INVITE_ALLOCATION", -1, ("default_invite_allocation", -1)),
        ("KALEO_DEFAULT_INVITE_ALLOCATION", 5, ("default_invite_allocation", 5)),
        ("KALEO_SIGNUP_URL", "auth.register", ("signup_url", "auth.register")),
        ("KALEO_SIGNUP_URL", "/join", ("signup_url", "/join")),
        ("KALEO_DELIVERY", "log", ("delivery", "log")),
        ("KALEO_SIGNED_IN_REDIRECT", None, ("signed_in_redirect", None)),
        ("KALEO_SIGNED_IN_REDIRECT", "accounts.home", ("signed_in_redirect", "accounts.home")),
        ("KALEO_LOGIN_URL", "/login", ("login_url", "/login")),
        ("KALEO_INVITE_ONLY", True, ("invite_only", True)),
        ("KALEO_ALLOW_LINKS", True, ("allow_links", True)),
        ("KALEO_SMTPUTF8", True, ("smtputf8", True)),
        ("KALEO_REQUIRE_INVITED_EMAIL", True, ("require_invited_email", True)),
        (
            "KALEO_SITE_URL",
            "https://example.com/community",
            ("site_url", "https://example.com/community"),
        ),
        ("KALEO_SITE_NAME", "Example Beta", ("site_name", "Example Beta")),
        (
            "KALEO_MAIL_TIMEOUT",
            dt.timedelta(seconds=0.5),
            ("mail_timeout", dt.timedelta(seconds=0.5)),
        ),
        ("KALEO_RESEND_INTERVAL", NEVER_MIND, ("resend_interval", NEVER_MIND)),
        ("KALEO_DELIVERY_RETRIES", [], ("delivery_attempts", 1)),
        ("KALEO_DELIVERY_RETRIES", (NEVER_MIND, H), ("delivery_retries", (NEVER_MIND, H))),
        ("KALEO_DELIVERY_RETRIES", [H] * 99, ("delivery_attempts", 100)),
        ("KALEO_REDIS_URL", "redis://cache:6379/3", ("redis_url", "redis://cache:6379/3")),
        ("KALEO_RATE_LIMITS", {"member": 1}, ("rate_limits", RateLimits(member=1, address=3))),
        ("KALEO_RATE_LIMITS", {"member": None}, ("rate_limits", RateLimits(None, 3))),
        ("KALEO_RATE_LIMITS", {"address": 10}, ("rate_limits", RateLimits(50, 10))),
        ("KALEO_RATE_LIMITS", {"address": None}, ("rate_limits", RateLimits(50, None))),
        ("KALEO_RATE_LIMITS", {}, ("rate_limits", RateLimits(50, 3))),
        ("KALEO_MEMBER_PRIVACY", "quiet", ("hides_members", True)),
        ("KALEO_MEMBER_PRIVACY", "quiet", ("notifies_members", False)),
        ("KALEO_MEMBER_PRIVACY", "notify", ("notifies_members", True)),
        ("KALEO_MEMBER_PRIVACY", "notify", ("hides_members", True)),
        ("KALEO_MEMBER_PRIVACY", None, ("hides_members", False)),
        ("KALEO_SHOW_SUSPENSION_REASON", True, ("show_suspension_reason", True)),
    ],
)
def test_good_setting_is_read_into_the_typed_config(
    setting: str, value: t.Any, read: tuple[str, t.Any]
) -> None:
    kaleo = Kaleo(db=db, user_model=User)
    app = bare_app(**{setting: value})
    kaleo.init_app(app)
    assert getattr(config_of(app), read[0]) == read[1]
    assert app.extensions["kaleo"] is kaleo


def test_reading_the_config_of_an_app_without_kaleo_says_what_is_missing() -> None:
    app = bare_app()
    with pytest.raises(RuntimeError, match=r"kaleo.init_app\(app\)"):
        config_of(app)
    with app.app_context(), pytest.raises(RuntimeError, match=r"kaleo.init_app\(app\)"):
        current_config()
    Kaleo(db=db, user_model=User).init_app(app)
    with app.app_context():
        assert current_config() is config_of(app)


def test_the_defaults_are_read_when_nothing_is_set() -> None:
    app = bare_app()
    Kaleo(db=db, user_model=User).init_app(app)
    config = config_of(app)
    assert config == KaleoConfig(
        default_expiration=168 * H,
        default_invite_allocation=0,
        expiration_bounds=(dt.timedelta(minutes=15), dt.timedelta(days=30)),
        signup_url="/",
        signed_in_redirect="/",
        login_url=None,
        invite_only=False,
        require_invited_email=False,
        allow_links=False,
        member_privacy=None,
        show_suspension_reason=False,
        rate_limits=RateLimits(member=50, address=3),
        resend_interval=dt.timedelta(minutes=5),
        site_url=None,
        site_name=None,
        user_email_attribute="email",
        smtputf8=False,
        delivery="inline",
        delivery_retries=(
            dt.timedelta(minutes=1),
            dt.timedelta(minutes=2),
            dt.timedelta(minutes=4),
        ),
        mail_timeout=dt.timedelta(seconds=10),
        redis_url="redis://127.0.0.1:6379/0",
    )
    assert config.delivery_attempts == 4 and not config.queued
    assert not any(key.startswith("KALEO_") for key in app.config)  # nothing written there
    assert app.jinja_env.globals["kaleo_config"] is config
    with app.app_context():
        assert current_config() is config
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.invite_only = True  # type: ignore[misc]


def test_the_expiry_must_lie_within_its_bounds() -> None:
    message = (
        "KALEO_DEFAULT_EXPIRATION must lie within KALEO_EXPIRATION_BOUNDS, not 1 day, 0:00:00"
        " outside 2 days, 0:00:00 .. 30 days, 0:00:00"
    )
    with pytest.raises(ConfigurationError, match=f"^{re.escape(message)}$"):
        Kaleo(db=db, user_model=User).init_app(
            bare_app(KALEO_DEFAULT_EXPIRATION=24, KALEO_EXPIRATION_BOUNDS=(48 * H, 720 * H))
        )
    Kaleo(db=db, user_model=User).init_app(
        bare_app(KALEO_DEFAULT_EXPIRATION=48, KALEO_EXPIRATION_BOUNDS=(48 * H, 48 * H))
    )


@pytest.mark.parametrize(
    ("setting", "replacement"),
    [
        ("KALEO_MIN_EXPIRATION", "KALEO_EXPIRATION_BOUNDS[0]"),
        ("KALEO_MAX_EXPIRATION", "KALEO_EXPIRATION_BOUNDS[1]"),
        ("KALEO_PRIVATE_REFUSALS", "KALEO_MEMBER_PRIVACY = 'quiet'"),
        ("KALEO_NOTIFY_MEMBERS", "KALEO_MEMBER_PRIVACY = 'notify'"),
        ("KALEO_DAILY_SEND_LIMIT", "KALEO_RATE_LIMITS['member']"),
        ("KALEO_ADDRESS_DAILY_LIMIT", "KALEO_RATE_LIMITS['address']"),
        ("KALEO_MAIL_DEBUG", "KALEO_DELIVERY = 'log'"),
        ("KALEO_DELIVERY_ATTEMPTS", "KALEO_DELIVERY_RETRIES"),
        ("KALEO_DELIVERY_BACKOFF", "KALEO_DELIVERY_RETRIES"),
        ("KALEO_EMAIL_SUBJECT", "kaleo/email/invitation_subject.txt"),
        ("KALEO_EMAIL_SENDER", "MAIL_DEFAULT_SENDER"),
        ("KALEO_EMAIL_TEXT_TEMPLATE", "kaleo/email/invitation.txt"),
        ("KALEO_EMAIL_HTML_TEMPLATE", "kaleo/email/invitation.html"),
        ("KALEO_MESSAGE_MAX_LENGTH", "1000 characters"),
        ("KALEO_CLI_NAME", "'flask kaleo'"),
        ("KALEO_MAX_BULK_AMOUNT", "at most 1000"),
        ("KALEO_RQ_QUEUE", "always 'kaleo'"),
        ("KALEO_DELIVERY_STUCK_AFTER", "--older-than"),
        ("KALEO_RESEND_RESETS_EXPIRY", "a resend keeps the expiry"),
        ("KALEO_MIGRATE_RENDER_ITEM", "render_item"),
    ],
)
def test_a_removed_setting_names_what_replaced_it(setting: str, replacement: str) -> None:
    """Even set to its former default: an app that still sets it has to hear of it."""
    app = bare_app(**{setting: False})
    with pytest.raises(ConfigurationError, match=f"^{setting} is ") as raised:
        Kaleo(db=db, user_model=User).init_app(app)
    assert replacement in str(raised.value)
    assert "kaleo" not in app.extensions


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        (
            "KALEO_INVITE_ONLLY",
            "KALEO_INVITE_ONLLY is not a flask-kaleo setting: did you mean KALEO_INVITE_ONLY?",
        ),
        (
            "KALEO_RATE_LIMIT",
            "KALEO_RATE_LIMIT is not a flask-kaleo setting: did you mean KALEO_RATE_LIMITS?",
        ),
        (
            "KALEO_SITEURL",
            "KALEO_SITEURL is not a flask-kaleo setting: did you mean KALEO_SITE_URL?",
        ),
        ("KALEO_FAVOURITE_COLOUR", "KALEO_FAVOURITE_COLOUR is not a flask-kaleo setting"),
    ],
)
def test_an_unknown_setting_names_the_closest_one(setting: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=f"^{re.escape(message)}$"):
        Kaleo(db=db, user_model=User).init_app(bare_app(**{setting: True}))


def test_every_removed_setting_is_tested_and_none_is_still_a_setting() -> None:
    assert not set(REMOVED_SETTINGS) & set(DEFAULT_SETTINGS)
    assert len(DEFAULT_SETTINGS) == 21


def test_rq_delivery_without_rq_installed_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kaleo = Kaleo(db=db, user_model=User)
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "rq" else real(name, *a)
    )
    with pytest.raises(ConfigurationError, match=r"flask-kaleo\[rq\]"):
        kaleo.init_app(bare_app(KALEO_DELIVERY="rq", SERVER_NAME="example.com"))


def test_queued_delivery_needs_the_sites_address_even_in_testing() -> None:
    kaleo = Kaleo(db=db, user_model=User)
    with pytest.raises(ConfigurationError, match="KALEO_SITE_URL"):
        kaleo.init_app(bare_app(KALEO_DELIVERY="queue"))
    kaleo.init_app(bare_app(KALEO_DELIVERY="queue", KALEO_SITE_URL="https://example.com"))


def test_production_app_must_say_where_links_point() -> None:
    """Links never come from the request's Host header, which anyone can forge: out of
    debug and testing mode, the app names its address (or trusts its hosts)."""
    kaleo = Kaleo(db=db, user_model=User)
    app = bare_app(TESTING=False)
    with pytest.raises(ConfigurationError, match="KALEO_SITE_URL"):
        kaleo.init_app(app)
    for safe in (
        {"KALEO_SITE_URL": "https://example.com"},
        {"SERVER_NAME": "example.com"},
        {"TRUSTED_HOSTS": ["example.com"]},
        {"DEBUG": True},
    ):
        kaleo.init_app(bare_app(TESTING=False, **safe))


def test_second_init_app_on_one_app_raises() -> None:
    kaleo = Kaleo(db=db, user_model=User)
    app = bare_app()
    kaleo.init_app(app)
    with pytest.raises(RuntimeError, match="already"):
        kaleo.init_app(app)


def test_kaleo_needs_db_and_user_model() -> None:
    with pytest.raises(TypeError, match="db"):
        Kaleo(user_model=User)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="user_model"):
        Kaleo(db=db)  # type: ignore[call-arg]
    with pytest.raises(ConfigurationError, match="user model"):
        Kaleo(db=db, user_model=None)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="Flask-SQLAlchemy object"):
        Kaleo(db=None, user_model=User)  # type: ignore[arg-type]


# -- several Kaleo objects over one db ---------------------------------------------------


@pytest.mark.all_backends
def test_two_kaleo_objects_on_one_db_work_side_by_side(app: Flask, database_url: str) -> None:
    """Two apps on one db and user model, each with a Kaleo of its own: the models are
    defined once on the metadata and shared, and so are the rows, while each Kaleo
    keeps its own hooks. (``app``, the fixture's, deletes the rows afterwards.)"""
    other_app = create_app(database_url)
    kaleo, other = kaleo_of(app), kaleo_of(other_app)
    assert kaleo is not other
    for model in ("JoinInvitation", "InvitationStat", "InvitationSend", "AddressLock"):
        assert getattr(kaleo, model) is getattr(other, model), model
    assert (kaleo.InvitationLink, kaleo.LinkUse) == (other.InvitationLink, other.LinkUse)

    kaleo.invite_permission(lambda user: False)
    mailed: list[str] = []
    other.transport(lambda email, timeout: mailed.append(email.recipient))
    with other_app.test_request_context():
        alice = make_user("alice@example.com", allocation=3)
        other.invite(alice, "carol@example.com")
    assert mailed == ["carol@example.com"]  # the other app's transport

    with app.test_request_context():
        alice = db.session.get_one(User, alice.id)
        assert [sent.email for sent in kaleo.sent_invitations(alice)] == ["carol@example.com"]
        with pytest.raises(InvitingNotAllowed):  # this app's permission
            kaleo.invite(alice, "dave@example.com")
    with other_app.test_request_context():
        alice = db.session.get_one(User, alice.id)
        other.invite(alice, "dave@example.com")  # the other app's permission: anyone
        assert other.invitations_remaining(alice) == 1
    assert mailed == ["carol@example.com", "dave@example.com"]
    with other_app.app_context():
        db.engine.dispose()


# -- models built from the app's own user model -----------------------------------------


def accounts_kaleo(**options: t.Any) -> tuple[SQLAlchemy, type, Kaleo[t.Any]]:
    """An app's own db, a user model on table "accounts" with a String key, and Kaleo."""
    own_db = SQLAlchemy()

    class Account(own_db.Model):  # type: ignore[name-defined,misc]
        __tablename__ = "accounts"
        uid = own_db.Column(own_db.String(36), primary_key=True)
        address = own_db.Column(own_db.String(254), nullable=False)

    if "join_invitation_model" in options:
        options["join_invitation_model"] = options["join_invitation_model"](own_db, Account)
    return own_db, Account, Kaleo(db=own_db, user_model=Account, **options)


OwnApp = t.Callable[..., Flask]


@pytest.fixture
def own_app(tmp_path: Path) -> t.Iterator[OwnApp]:
    """Builds an app around its own db and Kaleo, on its own SQLite file (its kaleo
    tables are not the host app's); its engine is disposed after the test."""
    made: list[tuple[Flask, SQLAlchemy]] = []

    def build(own_db: SQLAlchemy, own_kaleo: Kaleo[t.Any], **config: t.Any) -> Flask:
        app = bare_app(
            SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / f'own{len(made)}.sqlite'}",
            SECRET_KEY="own secret",
            MAIL_DEFAULT_SENDER="invites@example.org",
            TESTING=True,
            **config,
        )
        own_db.init_app(app)
        Mail(app)
        own_kaleo.init_app(app)
        app.register_blueprint(blueprint, url_prefix="/invites")
        with app.app_context():
            own_db.create_all()
        made.append((app, own_db))
        return app

    yield build
    for app, own_db in made:
        with app.app_context():
            own_db.session.remove()
            own_db.engine.dispose()


ACCOUNTS = {"KALEO_USER_EMAIL_ATTRIBUTE": "address", "KALEO_DEFAULT_INVITE_ALLOCATION": 3}


def test_models_follow_the_user_models_table_and_key(own_app: OwnApp) -> None:
    own_db, account, own_kaleo = accounts_kaleo()
    columns = [
        own_kaleo.JoinInvitation.__table__.c.from_user_id,
        own_kaleo.JoinInvitation.__table__.c.to_user_id,
        own_kaleo.InvitationStat.__table__.c.user_id,
    ]
    for column in columns:
        [foreign_key] = column.foreign_keys
        assert foreign_key.target_fullname == "accounts.uid"
        assert isinstance(column.type, sa.String) and column.type.length == 36
    assert own_kaleo.JoinInvitation.metadata is own_db.metadata

    app = own_app(own_db, own_kaleo, **ACCOUNTS)
    with app.test_request_context():
        alice = account(uid="a-1", address="alice@example.com")
        own_db.session.add(alice)
        own_db.session.commit()
        invitation = own_kaleo.invite(alice, "carol@example.com")
        assert invitation.from_user_id == "a-1"
        carol = account(uid="c-2", address="carol@example.com")
        own_db.session.add(carol)
        own_kaleo.accept(invitation, carol)
        own_db.session.commit()
        assert own_kaleo.allocation(alice).invites_accepted == 1
        assert own_kaleo.invitations_remaining(alice) == 2
        inspector = sa.inspect(own_db.engine)
        targets = {
            fk["referred_table"] for fk in inspector.get_foreign_keys("kaleo_join_invitation")
        }
        assert targets == {"accounts"}


def test_custom_join_invitation_model(own_app: OwnApp) -> None:
    def invitation_model(own_db: SQLAlchemy, account: type) -> type:
        class CampaignInvitation(JoinInvitationMixin, own_db.Model):  # type: ignore[name-defined,misc]
            __kaleo_user_model__ = account
            campaign = own_db.Column(own_db.String(40), nullable=True)

        return CampaignInvitation

    own_db, account, own_kaleo = accounts_kaleo(join_invitation_model=invitation_model)
    assert own_kaleo.JoinInvitation.__name__ == "CampaignInvitation"
    app = own_app(own_db, own_kaleo, **ACCOUNTS)
    with app.test_request_context():
        alice = account(uid="a-1", address="alice@example.com")
        own_db.session.add(alice)
        own_db.session.commit()
        sent_id = own_kaleo.invite(alice, "carol@example.com", campaign="spring").id
        own_db.session.expunge_all()
        alice = own_db.session.get(account, "a-1")
        stored = own_db.session.get(own_kaleo.JoinInvitation, sent_id)
        assert stored.campaign == "spring"
        assert stored.email == "carol@example.com"
        assert [t.cast(t.Any, i).campaign for i in own_kaleo.sent_invitations(alice)] == ["spring"]
        with pytest.raises(TypeError):
            own_kaleo.invite(alice, "dave@example.com", no_such_column="x")
        assert own_kaleo.allocation(alice).invites_sent == 1  # the bad call spent nothing


def test_non_mixin_model_is_refused() -> None:
    class NotAnInvitation:
        pass

    with pytest.raises(ConfigurationError, match="JoinInvitationMixin"):
        accounts_kaleo(join_invitation_model=lambda own_db, account: NotAnInvitation)


# -- an app without Flask-Login -------------------------------------------------------------


PAGE = '{% from "kaleo/macros.html" import invite_form %}{{ invite_form(user) }}'


def test_current_user_callable_without_flask_login(own_app: OwnApp) -> None:
    own_db = SQLAlchemy()

    class Member(own_db.Model):  # type: ignore[name-defined,misc]
        id = own_db.Column(own_db.Integer, primary_key=True)
        email = own_db.Column(own_db.String(254), nullable=False)

    def signed_in_member() -> Member | None:
        return t.cast("Member | None", g.get("member"))

    own_kaleo = Kaleo(db=own_db, user_model=Member)
    own_kaleo.current_user_loader(signed_in_member)
    app = own_app(own_db, own_kaleo, KALEO_DEFAULT_INVITE_ALLOCATION=2)
    assert not hasattr(app, "login_manager")

    @app.before_request
    def load_member() -> None:
        from flask import request

        member_id = request.headers.get("X-Member")
        g.member = own_db.session.get(Member, int(member_id)) if member_id else None

    @app.route("/")
    def home() -> str:
        return render_template_string(PAGE, user=own_kaleo.hooks.current_user())

    with app.app_context():
        own_db.session.add(Member(id=7, email="alice@example.com"))
        own_db.session.commit()

    client = app.test_client()
    client.environ_base["HTTP_X_MEMBER"] = "7"
    token = csrf_token(client)
    data = {"email_address": "carol@example.com", "csrf_token": token}
    body = client.post("/invites/invite", data=data, headers=AJAX).json
    assert body == {**body, "status": "OK", "invitations_remaining": 1}
    with app.app_context():
        invitation = own_db.session.scalars(sa.select(own_kaleo.JoinInvitation)).one()
        assert invitation.from_user_id == 7

    client.environ_base.pop("HTTP_X_MEMBER")
    data["email_address"] = "dave@example.com"
    for headers in (AJAX, {"Accept": "text/html"}):
        response = client.post("/invites/invite", data=data, headers=headers)
        assert response.status_code == 401
        assert response.json["status"] == "ERROR"


def test_member_loader_replaces_the_member_lookup(own_app: OwnApp) -> None:
    """An app can give its own member lookup (e.g. an indexed equality on a column that
    compares without case); invite() and the CLI's --user use it."""
    asked: list[str] = []

    def find_account(email: str) -> t.Any:
        asked.append(email)
        return own_db.session.scalars(
            sa.select(account).where(account.address == email.lower())  # type: ignore[attr-defined]
        ).first()

    own_db, account, own_kaleo = accounts_kaleo()
    own_kaleo.member_loader(find_account)
    app = own_app(own_db, own_kaleo, **ACCOUNTS)
    with app.test_request_context():
        alice = account(uid="a-1", address="alice@example.com")
        bob = account(uid="b-2", address="bob@example.com")
        own_db.session.add_all([alice, bob])
        own_db.session.commit()
        with pytest.raises(AlreadyMember):
            own_kaleo.invite(alice, "BOB@example.com")
        assert own_kaleo.hooks.member("Bob@Example.com") is bob
    assert asked == ["BOB@example.com", "Bob@Example.com"]
