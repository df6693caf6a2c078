"""Setting the extension up: settings checked at init_app, models
built from the app's own user model, custom models, and apps without Flask-Login.

The checks of ``init_app`` read no database, so those tests use a bare Flask app and a
``Kaleo`` of their own; the tests that build their own models use their own
``SQLAlchemy()`` (the shared metadata of tests.hostapp is never touched).
"""

from __future__ import annotations

import importlib.util
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
        ("KALEO_RESEND_INTERVAL", float("nan")),
        ("KALEO_RESEND_INTERVAL", float("inf")),
        ("KALEO_RESEND_INTERVAL", True),
        ("KALEO_RESEND_INTERVAL", -1),
        ("KALEO_RESEND_RESETS_EXPIRY", "yes"),
        ("KALEO_REQUIRE_INVITED_EMAIL", "yes"),
        ("KALEO_REQUIRE_INVITED_EMAIL", 1),
        ("KALEO_PRIVATE_REFUSALS", "yes"),
        ("KALEO_NOTIFY_MEMBERS", 1),
        ("KALEO_NOTIFY_MEMBERS", True),  # without KALEO_PRIVATE_REFUSALS
        ("KALEO_MAX_BULK_AMOUNT", 0),
        ("KALEO_MAX_BULK_AMOUNT", -3),
        ("KALEO_MAX_BULK_AMOUNT", "10"),
        ("KALEO_MAX_BULK_AMOUNT", 2.5),
        ("KALEO_MAX_BULK_AMOUNT", True),
        ("KALEO_MAX_BULK_AMOUNT", None),
        ("KALEO_MAX_BULK_AMOUNT", 1_000_001),
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
        ("KALEO_EMAIL_SUBJECT", "{inviter} invites you to {app}"),
        ("KALEO_EMAIL_SUBJECT", "{0} invites you"),
        ("KALEO_EMAIL_SUBJECT", "{inviter.__class__} invites you"),
        ("KALEO_EMAIL_SUBJECT", "{inviter invites you"),
        ("KALEO_EMAIL_SUBJECT", ""),
        ("KALEO_MESSAGE_MAX_LENGTH", 0),
        ("KALEO_MESSAGE_MAX_LENGTH", "500"),
        ("KALEO_USER_EMAIL_ATTRIBUTE", "mail"),
        ("KALEO_USER_EMAIL_ATTRIBUTE", "is_authenticated"),  # a property, not a column
        ("KALEO_USER_EMAIL_ATTRIBUTE", None),
        ("KALEO_SITE_URL", "example.com"),
        ("KALEO_SITE_URL", "ftp://example.com"),
        ("KALEO_SITE_URL", "https://"),
        ("KALEO_SITE_URL", 42),
        ("KALEO_DELIVERY", "smtp"),
        ("KALEO_DELIVERY", None),
        ("KALEO_MAIL_TIMEOUT", 0),
        ("KALEO_MAIL_TIMEOUT", -1),
        ("KALEO_MAIL_TIMEOUT", float("nan")),
        ("KALEO_MAIL_TIMEOUT", float("inf")),
        ("KALEO_MAIL_TIMEOUT", "10"),
        ("KALEO_MAIL_TIMEOUT", True),
        ("KALEO_DELIVERY_ATTEMPTS", 0),
        ("KALEO_DELIVERY_ATTEMPTS", 101),
        ("KALEO_DELIVERY_ATTEMPTS", 2.0),
        ("KALEO_DELIVERY_BACKOFF", -1),
        ("KALEO_DELIVERY_BACKOFF", -0.5),  # RQ would refuse the retry of every invite
        ("KALEO_DELIVERY_BACKOFF", float("nan")),
        ("KALEO_DELIVERY_STUCK_AFTER", 0),
        ("KALEO_REDIS_URL", ""),
        ("KALEO_RQ_QUEUE", None),
        ("KALEO_DAILY_SEND_LIMIT", 0),
        ("KALEO_DAILY_SEND_LIMIT", -1),
        ("KALEO_DAILY_SEND_LIMIT", 2.5),
        ("KALEO_DAILY_SEND_LIMIT", True),
        ("KALEO_DAILY_SEND_LIMIT", "50"),
        ("KALEO_ADDRESS_DAILY_LIMIT", 0),
        ("KALEO_ADDRESS_DAILY_LIMIT", 3.0),
        ("KALEO_ADDRESS_DAILY_LIMIT", False),
        ("KALEO_MAIL_DEBUG", "yes"),
        ("KALEO_MAIL_DEBUG", 1),
        ("KALEO_SIGNED_IN_REDIRECT", ""),
        ("KALEO_SIGNED_IN_REDIRECT", 42),
        ("KALEO_LOGIN_URL", ""),
        ("KALEO_LOGIN_URL", ["/login"]),
    ],
)
def test_bad_setting_fails_at_init_app_naming_it(setting: str, value: t.Any) -> None:
    kaleo = Kaleo(db=db, user_model=User)
    app = bare_app(**{setting: value})
    with pytest.raises(ConfigurationError, match=setting):
        kaleo.init_app(app)
    assert "kaleo" not in app.extensions


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("KALEO_DEFAULT_EXPIRATION", 1),
        ("KALEO_DEFAULT_EXPIRATION", 0.5),
        ("KALEO_DEFAULT_INVITE_ALLOCATION", -1),
        ("KALEO_DEFAULT_INVITE_ALLOCATION", 5),
        ("KALEO_SIGNUP_URL", "auth.register"),
        ("KALEO_SIGNUP_URL", "/join"),
        ("KALEO_MAIL_DEBUG", True),
        ("KALEO_SIGNED_IN_REDIRECT", None),
        ("KALEO_SIGNED_IN_REDIRECT", "accounts.home"),
        ("KALEO_LOGIN_URL", "/login"),
        ("KALEO_INVITE_ONLY", True),
        ("KALEO_EMAIL_SUBJECT", "Join {site}: {inviter} asked us to write"),
        ("KALEO_SITE_URL", "https://example.com/community"),
        ("KALEO_MAIL_TIMEOUT", 0.5),
        ("KALEO_DELIVERY_BACKOFF", 0),
        ("KALEO_DAILY_SEND_LIMIT", 1),
        ("KALEO_DAILY_SEND_LIMIT", None),
        ("KALEO_ADDRESS_DAILY_LIMIT", 10),
        ("KALEO_ADDRESS_DAILY_LIMIT", None),
    ],
)
def test_good_setting_is_accepted(setting: str, value: t.Any) -> None:
    kaleo = Kaleo(db=db, user_model=User)
    app = bare_app(**{setting: value})
    kaleo.init_app(app)
    assert app.config[setting] == value
    assert app.extensions["kaleo"] is kaleo


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


def test_defaults_are_visible_in_config() -> None:
    kaleo = Kaleo(db=db, user_model=User)
    app = bare_app()
    kaleo.init_app(app)
    assert app.config["KALEO_DEFAULT_EXPIRATION"] == 168
    assert app.config["KALEO_DEFAULT_INVITE_ALLOCATION"] == 0
    assert app.config["KALEO_SIGNUP_URL"] == "/"
    assert app.config["KALEO_INVITE_ONLY"] is False
    assert app.config["KALEO_USER_EMAIL_ATTRIBUTE"] == "email"
    assert app.jinja_env.globals["kaleo_extension"] is kaleo


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
