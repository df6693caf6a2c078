"""Flask-Security-Too wired by ``flask_kaleo.contrib.security.wire``: its own register and
confirm views accept invitations, refuse visitors under invite-only, prefill and bind
the invited address, and settle "joined independently" (tests/security_app.py)."""

from __future__ import annotations

import re
import smtplib
import typing as t

import pytest
import sqlalchemy as sa
from flask import Flask
from flask import url_for
from flask.testing import FlaskClient
from flask_mail import email_dispatched
from flask_security import Security
from flask_security import SQLAlchemyUserDatastore
from flask_security import change_email_instructions_sent
from flask_security import hash_password
from flask_security import user_registered
from flask_sqlalchemy import SQLAlchemy

from flask_kaleo import ConfigurationError
from flask_kaleo import Kaleo
from flask_kaleo import Status
from flask_kaleo.contrib.security import wire
from tests.helpers import Statements
from tests.helpers import received
from tests.security_app import Role
from tests.security_app import User
from tests.security_app import add_member
from tests.security_app import create_app
from tests.security_app import db
from tests.security_app import security_kaleo

PASSWORD = "a long enough password"
M = t.TypeVar("M")
REFUSED_ELSEWHERE = "This invitation was sent to bob@example.com: sign up with that address."


@pytest.fixture
def security_app(empty_database: str, request: pytest.FixtureRequest) -> t.Iterator[Flask]:
    """The Flask-Security-Too host app on the test's (otherwise empty) database, with
    the config of its ``settings`` markers."""
    settings: dict[str, t.Any] = {}
    for marker in reversed(list(request.node.iter_markers("settings"))):
        settings.update(marker.kwargs)
    app = create_app(
        empty_database, WTF_CSRF_ENABLED=False, KALEO_SITE_URL="http://localhost", **settings
    )
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def kaleo(security_app: Flask) -> Kaleo[User]:
    """The Flask-Security-Too app's own ``Kaleo``."""
    return security_kaleo(security_app)


@pytest.fixture
def visitor(security_app: Flask) -> FlaskClient:
    return security_app.test_client()


def member(app: Flask, email: str = "alice@example.com") -> int:
    return add_member(app, email, PASSWORD)


def row(model: type[M], ident: int) -> M:
    """The row of ``model`` with primary key ``ident``, which must exist."""
    found = db.session.get(model, ident)
    assert found is not None, (model, ident)
    return found


def invite(app: Flask, inviter_id: int, address: str = "bob@example.com") -> tuple[int, str]:
    """(id, clear token) of an invitation from the member to ``address``."""
    with app.app_context():
        invitation = security_kaleo(app).invite(row(User, inviter_id), address)
        return int(invitation.id), str(invitation.token)


def register(client: FlaskClient, email: str) -> t.Any:
    """POST Flask-Security-Too's register form."""
    return client.post(
        "/register", data={"email": email, "password": PASSWORD, "password_confirm": PASSWORD}
    )


def invitation_row(app: Flask, invitation_id: int) -> tuple[str, int | None]:
    with app.app_context():
        invitation = row(security_kaleo(app).JoinInvitation, invitation_id)
        return invitation.status, invitation.to_user_id


def user_id(app: Flask, email: str) -> int | None:
    with app.app_context():
        return db.session.scalar(sa.select(User.id).where(User.email == email))


def accepted_count(app: Flask, inviter_id: int) -> int:
    with app.app_context():
        return int(security_kaleo(app).allocation(row(User, inviter_id)).invites_accepted)


def email_input(page: str) -> str:
    match = re.search(r"<input[^>]*\bid=\"email\"[^>]*>", page)
    assert match, page
    return match[0]


def follow_link(client: FlaskClient, token: str) -> None:
    response = client.get(f"/invites/accept/{token}")
    assert response.status_code == 303
    assert response.location == "/register"  # KALEO_SIGNUP_URL: set by wire()


def invited(app: Flask, client: FlaskClient) -> tuple[int, int, str]:
    """Alice, a member, invites bob@example.com, who follows the link on ``client``:
    (Alice's id, the invitation's id, its token)."""
    alice = member(app)
    invitation_id, token = invite(app, alice)
    follow_link(client, token)
    return alice, invitation_id, token


@pytest.mark.settings(KALEO_INVITE_ONLY=True)
def test_registering_through_the_link_accepts_the_invitation(
    security_app: Flask, visitor: FlaskClient
) -> None:
    alice, invitation_id, token = invited(security_app, visitor)

    page = visitor.get("/register")
    assert page.status_code == 200
    field = email_input(page.get_data(as_text=True))
    assert 'value="bob@example.com"' in field  # prefilled
    assert "readonly" not in field  # KALEO_REQUIRE_INVITED_EMAIL is off

    response = register(visitor, "bob@example.com")
    assert response.status_code == 302, response.get_data(as_text=True)
    bob = user_id(security_app, "bob@example.com")
    assert bob is not None
    assert invitation_row(security_app, invitation_id) == (Status.ACCEPTED.value, bob)
    assert accepted_count(security_app, alice) == 1
    assert "Signed in as bob@example.com" in visitor.get("/").get_data(as_text=True)
    assert visitor.get(f"/invites/accept/{token}").status_code == 410  # used


@pytest.mark.all_backends
@pytest.mark.settings(SECURITY_SEND_REGISTER_EMAIL=True)
def test_its_emails_leave_after_the_commit(
    security_app: Flask, visitor: FlaskClient, kaleo: Kaleo[User]
) -> None:
    """The welcome email is sent with the new user and the accepted invitation already
    committed (no SMTP conversation while the accept holds their rows locked)."""
    alice, invitation_id, token = invited(security_app, visitor)
    with security_app.app_context():
        engine = db.engine
    table = kaleo.JoinInvitation.__table__
    seen: list[tuple[str, str | None]] = []

    def dispatched(app: Flask, message: t.Any) -> None:
        with engine.connect() as elsewhere:  # sees only what is committed
            status = elsewhere.scalar(sa.select(table.c.status).where(table.c.id == invitation_id))
            user = elsewhere.scalar(sa.select(User.email).where(User.email == "bob@example.com"))
        seen.append((str(status), user))

    with email_dispatched.connected_to(dispatched):
        assert register(visitor, "bob@example.com").status_code == 302
    assert seen == [(Status.ACCEPTED.value, "bob@example.com")]


@pytest.mark.settings(SECURITY_SEND_REGISTER_EMAIL=True)
def test_a_held_email_that_fails_is_logged_and_the_registration_stands(
    security_app: Flask,
    visitor: FlaskClient,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The welcome email leaves after the commit; if the relay then fails, the account
    and the accepted invitation (both committed) stand and the failure is logged,
    rather than a 500 for a registration that happened."""
    alice, invitation_id, token = invited(security_app, visitor)

    def relay_down(*args: t.Any, **kwargs: t.Any) -> None:
        raise smtplib.SMTPServerDisconnected("relay went away")

    monkeypatch.setattr("flask_mail._Mail.send", relay_down)
    assert register(visitor, "bob@example.com").status_code == 302
    assert user_id(security_app, "bob@example.com") is not None
    assert invitation_row(security_app, invitation_id)[0] == Status.ACCEPTED.value
    assert "a Flask-Security-Too email was not sent" in caplog.text


def test_one_requests_invitation_never_serves_another(
    security_app: Flask, visitor: FlaskClient
) -> None:
    """Requests that share an app context (a test suite, a script) share ``g``: the
    invitation a registration is for is kept per request, so Mallory, with none, does
    not take Bob's."""
    alice, invitation_id, token = invited(security_app, visitor)
    mallory = security_app.test_client()
    with security_app.app_context():
        assert visitor.get("/register").status_code == 200  # Bob's, with his invitation
        assert register(mallory, "mallory@example.com").status_code == 302
    assert invitation_row(security_app, invitation_id) == (Status.SENT.value, None)


@pytest.mark.all_backends
def test_the_user_and_the_accept_commit_together(
    security_app: Flask, visitor: FlaskClient, kaleo: Kaleo[User]
) -> None:
    alice, invitation_id, token = invited(security_app, visitor)
    with security_app.app_context():
        engine = db.engine
    recorder = Statements(engine)

    def commit(connection: sa.Connection) -> None:
        recorder.executed.append(("COMMIT", None))

    sa.event.listen(engine, "commit", commit)
    try:
        with recorder:
            assert register(visitor, "bob@example.com").status_code == 302
    finally:
        sa.event.remove(engine, "commit", commit)
    table = kaleo.JoinInvitation.__tablename__
    steps = [
        "commit"
        if statement == "COMMIT"
        else "user"
        if statement.startswith("INSERT INTO fst_user")
        else "accept"
        if statement.startswith("UPDATE") and table in statement and "to_user_id" in statement
        else None
        for statement, _ in recorder.executed
    ]
    assert steps.count("user") == steps.count("accept") == 1, recorder.statements
    user, accept = steps.index("user"), steps.index("accept")
    assert "commit" not in steps[user:accept], recorder.statements  # one transaction
    assert "commit" in steps[accept:], recorder.statements
    assert invitation_row(security_app, invitation_id)[0] == Status.ACCEPTED.value


@pytest.mark.all_backends
def test_an_invitation_used_meanwhile_creates_no_account(
    security_app: Flask, visitor: FlaskClient, monkeypatch: pytest.MonkeyPatch, kaleo: Kaleo[User]
) -> None:
    """The invitation is pending when the form is checked and revoked (in another
    transaction, committed) before the accept: the registration is rolled back."""
    alice, invitation_id, token = invited(security_app, visitor)

    def hash_while_the_inviter_revokes(password: str) -> t.Any:
        with security_app.app_context():  # its own session: another transaction
            kaleo.revoke(row(kaleo.JoinInvitation, invitation_id))
        return hash_password(password)

    monkeypatch.setattr("flask_security.registerable.hash_password", hash_while_the_inviter_revokes)
    response = register(visitor, "bob@example.com")
    page = response.get_data(as_text=True)
    assert response.status_code == 410, page
    assert "This invitation has been withdrawn." in page
    assert 'class="kaleo-state-revoked"' in page
    assert '<a class="kaleo-login" href="/login">Log in</a>' in page  # FST's login view
    assert user_id(security_app, "bob@example.com") is None
    assert invitation_row(security_app, invitation_id) == (Status.REVOKED.value, None)
    assert accepted_count(security_app, alice) == 0


@pytest.mark.settings(KALEO_INVITE_ONLY=True)
def test_invite_only_refuses_visitors_without_an_invitation(
    security_app: Flask, visitor: FlaskClient
) -> None:
    alice = member(security_app)
    for response in (visitor.get("/register"), register(visitor, "mallory@example.com")):
        assert response.status_code == 403
        page = response.get_data(as_text=True)
        assert "Signing up is by invitation only" in page
        # wire() set KALEO_LOGIN_URL to FST's login view: members are told where
        assert 'Already a member? <a class="kaleo-login" href="/login">Log in</a>.' in page
    assert user_id(security_app, "mallory@example.com") is None

    invitation_id, token = invite(security_app, alice)  # a used link lets nobody in
    follow_link(visitor, token)
    assert register(visitor, "bob@example.com").status_code == 302
    other = security_app.test_client()
    used = other.get(f"/invites/accept/{token}")
    assert used.status_code == 410
    assert '<a class="kaleo-login" href="/login">log in</a>' in used.get_data(as_text=True)
    assert other.get("/register").status_code == 403

    signed_in = security_app.test_client()  # a member is sent on, as FST does
    response = signed_in.post("/login", data={"email": "alice@example.com", "password": PASSWORD})
    assert response.status_code == 302
    response = signed_in.get("/register")
    assert response.status_code == 302 and response.location == "/"


@pytest.mark.parametrize("address", ["bobby@example.com", "ｂｏｂｂｙ@example.com"])
def test_without_confirmation_a_registration_settles_nothing(
    security_app: Flask, visitor: FlaskClient, address: str, kaleo: Kaleo[User]
) -> None:
    """No SECURITY_CONFIRMABLE: an address nobody proved (Bobby's, or a lookalike),
    registered through a shareable link, leaves other members' invitations to Bobby
    pending, and his link keeps working."""
    alice, dave = member(security_app), member(security_app, "dave@example.com")
    from_alice, alice_token = invite(security_app, alice, "bobby@example.com")
    from_dave, _ = invite(security_app, dave, "Bobby@Example.com")
    with security_app.test_request_context():
        link = kaleo.create_link(row(User, dave), 2)
        path = str(link.url).removeprefix("http://localhost")
    assert visitor.get(path).status_code == 303
    assert register(visitor, address).status_code == 302
    assert user_id(security_app, address) is not None
    for invitation_id in (from_alice, from_dave):
        assert invitation_row(security_app, invitation_id) == (Status.SENT.value, None)
    bobby = security_app.test_client()
    follow_link(bobby, alice_token)
    assert bobby.get("/register").status_code == 200


def test_registering_with_the_address_an_invitation_was_emailed_to_settles(
    security_app: Flask, visitor: FlaskClient
) -> None:
    """The emailed link followed and the invited address registered: the address is
    proved, so other members' invitations to it become "joined independently"."""
    alice, dave = member(security_app), member(security_app, "dave@example.com")
    from_alice, alice_token = invite(security_app, alice, "bobby@example.com")
    from_dave, _ = invite(security_app, dave, "Bobby@Example.com")
    bobby = security_app.test_client()
    follow_link(bobby, alice_token)
    assert register(bobby, "bobby@example.com").status_code == 302
    bobby_id = user_id(security_app, "bobby@example.com")
    assert bobby_id is not None
    assert invitation_row(security_app, from_alice) == (Status.ACCEPTED.value, bobby_id)
    assert invitation_row(security_app, from_dave) == (Status.JOINED_INDEPENDENTLY.value, bobby_id)


@pytest.mark.settings(SECURITY_CONFIRMABLE=True)
# Flask-Security-Too 5.7 and 5.8 (5.7 is the lowest allowed) call their own deprecated
# helper when they check a confirmation token; 5.9 does not.
@pytest.mark.filterwarnings("ignore:'get_token_status' is deprecated:DeprecationWarning")
def test_confirming_the_address_settles_joined_independently(
    security_app: Flask, visitor: FlaskClient
) -> None:
    alice = member(security_app)
    invitation_id, _ = invite(security_app, alice, "carol@example.com")
    with received(user_registered) as registrations:
        assert register(visitor, "carol@example.com").status_code == 302
    [registration] = registrations
    carol = user_id(security_app, "carol@example.com")
    assert invitation_row(security_app, invitation_id) == (Status.SENT.value, None)  # unproven

    response = visitor.get(f"/confirm/{registration['confirmation_token']}")
    assert response.status_code == 302
    assert invitation_row(security_app, invitation_id) == (
        Status.JOINED_INDEPENDENTLY.value,
        carol,
    )


@pytest.mark.settings(SECURITY_CHANGE_EMAIL=True)
def test_a_confirmed_change_of_address_settles_joined_independently(
    security_app: Flask, visitor: FlaskClient
) -> None:
    alice, dave = member(security_app), member(security_app, "dave@example.com")
    invitation_id, _ = invite(security_app, alice, "dave@work.example.com")
    response = visitor.post("/login", data={"email": "dave@example.com", "password": PASSWORD})
    assert response.status_code == 302
    with received(change_email_instructions_sent) as instructions:
        response = visitor.post("/change-email", data={"email": "dave@work.example.com"})
    assert response.status_code == 200, response.get_data(as_text=True)
    [sent] = instructions  # the link mailed to the new address
    assert invitation_row(security_app, invitation_id) == (Status.SENT.value, None)

    with security_app.test_request_context():
        confirm = url_for("security.change_email_confirm", token=sent["token"])
    assert visitor.get(confirm).status_code == 302
    assert user_id(security_app, "dave@work.example.com") == dave
    assert invitation_row(security_app, invitation_id) == (
        Status.JOINED_INDEPENDENTLY.value,
        dave,
    )


@pytest.mark.settings(SECURITY_CONFIRMABLE=True, KALEO_REQUIRE_INVITED_EMAIL=True)
def test_with_confirmation_the_invitation_is_accepted_at_registration(
    security_app: Flask, visitor: FlaskClient
) -> None:
    """Flask-Security-Too's other register form (confirmable) is wired the same way."""
    alice, invitation_id, token = invited(security_app, visitor)
    field = email_input(visitor.get("/register").get_data(as_text=True))
    assert 'value="bob@example.com"' in field and "readonly" in field
    assert "This invitation was sent to" in register(visitor, "eve@example.com").get_data(
        as_text=True
    )
    assert register(visitor, "bob@example.com").status_code == 302
    bob = user_id(security_app, "bob@example.com")
    assert invitation_row(security_app, invitation_id) == (Status.ACCEPTED.value, bob)


@pytest.mark.settings(KALEO_INVITE_ONLY=True, KALEO_REQUIRE_INVITED_EMAIL=True)
def test_the_invited_address_is_bound(security_app: Flask, visitor: FlaskClient) -> None:
    alice, invitation_id, token = invited(security_app, visitor)
    field = email_input(visitor.get("/register").get_data(as_text=True))
    assert 'value="bob@example.com"' in field and "readonly" in field

    response = register(visitor, "mallory@example.com")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'value="mallory@example.com"' in email_input(page)  # what was typed is kept
    at_the_field = re.search(r'id="email".*?id="password"', page, re.S)
    assert at_the_field and REFUSED_ELSEWHERE in at_the_field[0]
    assert user_id(security_app, "mallory@example.com") is None
    assert invitation_row(security_app, invitation_id) == (Status.SENT.value, None)

    response = register(visitor, "ｂｏｂ@example.com")  # a lookalike: another mailbox
    assert response.status_code == 200
    assert REFUSED_ELSEWHERE in response.get_data(as_text=True)

    response = register(visitor, "Bob@example.com")  # another spelling of it
    assert response.status_code == 302, response.get_data(as_text=True)
    bob = user_id(security_app, "Bob@example.com")
    assert invitation_row(security_app, invitation_id) == (Status.ACCEPTED.value, bob)


def test_wire_refuses_a_setup_it_cannot_serve(empty_database: str) -> None:
    with pytest.raises(ConfigurationError, match="SECURITY_REGISTERABLE"):
        create_app(empty_database, SECURITY_REGISTERABLE=False)

    app = create_app(empty_database, KALEO_SIGNUP_URL="/welcome")
    assert app.config["KALEO_SIGNUP_URL"] == "/welcome"  # an explicit choice is kept
    with pytest.raises(RuntimeError, match="already called"):
        wire(app)

    bare = Flask(__name__)
    with pytest.raises(ConfigurationError, match="kaleo.init_app"):
        wire(bare)

    elsewhere = Flask(__name__)  # FST on another Flask-SQLAlchemy object than kaleo's
    elsewhere.config.update(SQLALCHEMY_DATABASE_URI=empty_database, TESTING=True)
    db.init_app(elsewhere)
    Kaleo(db=db, user_model=User).init_app(elsewhere)
    Security(elsewhere, SQLAlchemyUserDatastore(SQLAlchemy(), User, Role))
    with pytest.raises(ConfigurationError, match="commit together"):
        wire(elsewhere)


@pytest.mark.settings(KALEO_INVITE_ONLY=True, KALEO_REQUIRE_INVITED_EMAIL=True)
def test_registering_through_a_shareable_link(
    security_app: Flask, visitor: FlaskClient, kaleo: Kaleo[User]
) -> None:
    """A shareable link opens the register view too: nothing to prefill or lock (it
    names nobody), its domain checked at the field, one use taken with the account."""
    alice = member(security_app)
    with security_app.test_request_context():
        link = kaleo.create_link(row(User, alice), 2, domain="example.org")
        link_id, url = link.id, str(link.url)
    response = visitor.get(url.removeprefix("http://localhost"))
    assert response.status_code == 303 and response.location == "/register"

    field = email_input(visitor.get("/register").get_data(as_text=True))
    assert "readonly" not in field and 'value="' not in field.replace('value=""', "")

    refused = register(visitor, "mallory@example.com")
    assert refused.status_code == 200  # the form again, with the field's error
    assert "This link is only for addresses at example.org." in refused.get_data(as_text=True)
    assert user_id(security_app, "mallory@example.com") is None

    assert register(visitor, "carol@example.org").status_code == 302
    carol = user_id(security_app, "carol@example.org")
    assert carol is not None
    with security_app.app_context():
        assert row(kaleo.InvitationLink, link_id).uses == 1
        joined = db.session.scalars(sa.select(kaleo.LinkUse.user_id)).all()
        assert joined == [carol]
    assert accepted_count(security_app, alice) == 1
