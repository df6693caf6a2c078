"""The facade's shape: what each folded question is answered by (``kaleo.hooks``,
``get``, ``grant``, ``revoke`` of a link, ``purge_expired``, ``deliver`` without an id,
``signup_email``), and the import contract that keeps the HTTP layer and the CLI on it."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

import flask_kaleo
from flask_kaleo import UNLIMITED
from flask_kaleo import Kaleo
from flask_kaleo import PurgeReport
from flask_kaleo import get_kaleo
from flask_kaleo.exceptions import InvitationForAnotherAddress
from flask_kaleo.exceptions import InvitationReplaced
from flask_kaleo.exceptions import InvitationRevoked
from flask_kaleo.models import utcnow
from tests.helpers import make_user
from tests.helpers import stat_row
from tests.hostapp import User
from tests.hostapp import db

ROOT = Path(__file__).resolve().parent.parent


def test_the_facade_has_a_bounded_number_of_public_methods() -> None:
    """37 methods, and the eight decorators that set the app's hooks."""
    public = [name for name in dir(Kaleo) if not name.startswith("_")]
    assert len(public) <= 45, public
    for gone in (
        "current_user",
        "find_user",
        "user_by_email_or_id",
        "has_invite_permission",
        "can_invite_now",
        "has_manage_permission",
        "stat_for",
        "link",
        "revoke_link",
        "settle_expired_links",
        "deliver_stuck",
        "add_invites",
        "topoff_invites",
        "infinite_invites",
    ):
        assert gone not in public
    for name in public:
        assert getattr(Kaleo, name).__doc__, name


def test_get_kaleo_finds_the_extension_of_a_given_app(app: Flask, kaleo: Kaleo[User]) -> None:
    assert get_kaleo(app) is kaleo
    with app.app_context():
        assert get_kaleo() is kaleo
    with pytest.raises(RuntimeError, match="init_app"):
        get_kaleo(Flask("bare"))


# -- kaleo.hooks answers the questions the hooks settle ----------------------------------


def test_hooks_answer_who_is_signed_in_and_who_a_value_names(
    app: Flask, kaleo: Kaleo[User]
) -> None:
    with app.test_request_context():
        alice = make_user("Alice@example.com")
        assert kaleo.hooks.current_user() is None  # Flask-Login: nobody signed in
        kaleo.current_user_loader(lambda: alice)
        assert kaleo.hooks.current_user() is alice
        assert kaleo.hooks.member("alice@EXAMPLE.com") is alice
        assert kaleo.hooks.member(f" {alice.id} ", or_id=True) is alice
        assert kaleo.hooks.member(str(alice.id)) is None  # an address only, by default
        assert kaleo.hooks.member("nobody@example.com") is None
        assert kaleo.hooks.member("abc") is None
        assert kaleo.hooks.user_id(alice) == alice.id
        assert kaleo.hooks.email(alice) == "Alice@example.com"


def test_member_asks_the_member_loader_for_an_address(app: Flask, kaleo: Kaleo[User]) -> None:
    with app.test_request_context():
        bob = make_user("bob@example.com")
        asked: list[str] = []

        @kaleo.member_loader
        def find(address: str) -> User:
            asked.append(address)
            return bob

        assert kaleo.hooks.member("someone@example.com") is bob
        assert asked == ["someone@example.com"]


def test_hooks_of_a_kaleo_without_a_store_say_so() -> None:
    from flask_kaleo.core.hooks import Hooks

    with pytest.raises(RuntimeError, match="no Kaleo"):
        Hooks[User]().member("x@example.com")


def test_permissions_are_answered_by_the_hooks(app: Flask, kaleo: Kaleo[User]) -> None:
    with app.test_request_context():
        alice = make_user("alice@example.com", 1)
        assert kaleo.hooks.has_invite_permission(alice)
        assert not kaleo.hooks.has_invite_permission(None)
        assert not kaleo.hooks.has_manage_permission(alice)  # nobody, by default
        kaleo.manage_permission(lambda user: user.email == "alice@example.com")
        assert kaleo.hooks.has_manage_permission(alice)


# -- reading -----------------------------------------------------------------------------


def test_get_finds_an_invitation_or_link_and_checks_its_sender(
    app: Flask, kaleo: Kaleo[User]
) -> None:
    with app.test_request_context():
        alice = make_user("alice@example.com", 5)
        bob = make_user("bob@example.com", 5)
        invitation = kaleo.invite(alice, "carol@example.com")
        link = kaleo.create_link(alice, 2)
        assert kaleo.get(kaleo.JoinInvitation, invitation.id) is invitation
        assert kaleo.get(kaleo.JoinInvitation, invitation.id, sent_by=alice) is invitation
        assert kaleo.get(kaleo.JoinInvitation, invitation.id, sent_by=bob) is None
        assert kaleo.get(kaleo.InvitationLink, link.id, sent_by=alice) is link
        assert kaleo.get(kaleo.InvitationLink, link.id, sent_by=bob) is None
        assert kaleo.get(kaleo.InvitationLink, link.id + 1000) is None


@pytest.mark.settings(KALEO_RESEND_INTERVAL=dt.timedelta(0), KALEO_MEMBER_PRIVACY="quiet")
def test_invitation_by_token_finds_it_in_any_state(app: Flask, kaleo: Kaleo[User]) -> None:
    with app.test_request_context():
        alice = make_user("alice@example.com", 5)
        make_user("member@example.com")
        invitation = kaleo.invite(alice, "carol@example.com")
        first = invitation.token
        assert first is not None and kaleo.invitation_by_token(first) is invitation
        kaleo.resend(invitation)
        assert invitation.token is not None
        assert kaleo.invitation_by_token(invitation.token) is invitation
        with pytest.raises(InvitationReplaced):
            kaleo.invitation_by_token(first)
        kaleo.revoke(invitation)
        assert kaleo.invitation_by_token(invitation.token) is invitation
        assert not invitation.is_pending
        assert isinstance(invitation.why_not_pending(), InvitationRevoked)
        to_member = kaleo.invite(alice, "member@example.com")  # refused in private
        assert to_member.token is not None and to_member.to_member
        assert kaleo.invitation_by_token(to_member.token) is None
        assert kaleo.invitation_by_token("not-a-token") is None
        assert kaleo.invitation_by_token("x" * 129) is None


def test_allocation_reads_the_stat_or_the_default(app: Flask, kaleo: Kaleo[User]) -> None:
    with app.test_request_context():
        alice = make_user("alice@example.com", 4)
        kaleo.invite(alice, "carol@example.com")
        stat = kaleo.allocation(alice)
        assert (stat.invites_allocated, stat.invites_sent, stat.invites_remaining) == (4, 1, 3)
        newcomer = make_user("new@example.com")
        assert kaleo.allocation(newcomer).invites_allocated == 0  # the default, unsaved


# -- grant: add, everyone, top off, unlimited ----------------------------------------------


def test_grant_does_what_the_three_commands_do(app: Flask, kaleo: Kaleo[User]) -> None:
    with app.app_context():
        empty = make_user("empty@example.com", 0)
        some = make_user("some@example.com", 3)
        assert kaleo.grant(2) == 1  # only those with none left
        assert stat_row(empty.id)[0] == 2 and stat_row(some.id)[0] == 3
        assert kaleo.grant(1, everyone=True) == 2
        assert stat_row(empty.id)[0] == 3 and stat_row(some.id)[0] == 4
        assert kaleo.grant(10, top_off=True, user=some) == 1
        assert stat_row(some.id)[0] == 10
        assert stat_row(empty.id)[0] == 3
        assert kaleo.grant(UNLIMITED, user=empty) == 1
        assert stat_row(empty.id)[0] == UNLIMITED


@pytest.mark.parametrize(
    "options",
    [
        {"amount": 1, "everyone": True, "top_off": True},
        {"amount": UNLIMITED, "everyone": True},
        {"amount": UNLIMITED, "top_off": True},
        {"amount": -2},
    ],
)
def test_grant_refuses_options_that_do_not_go_together(
    app: Flask, kaleo: Kaleo[User], options: dict[str, int]
) -> None:
    with app.app_context(), pytest.raises(ValueError):
        kaleo.grant(**options)  # type: ignore[arg-type]


# -- revoke takes a link; purge_expired settles expired links ------------------------------


def test_revoke_takes_an_invitation_or_a_link(app: Flask, kaleo: Kaleo[User]) -> None:
    with app.test_request_context():
        alice = make_user("alice@example.com", 5)
        link = kaleo.create_link(alice, 3)
        invitation = kaleo.invite(alice, "carol@example.com")
        assert kaleo.revoke(link) is link and link.given_back == 3
        assert kaleo.revoke(invitation).status == "revoked"
        assert stat_row(alice.id) == (5, 0, 0)
        with pytest.raises(InvitationRevoked):
            kaleo.revoke(invitation)


def test_purge_expired_gives_back_what_expired_links_left(app: Flask, kaleo: Kaleo[User]) -> None:
    with app.test_request_context():
        alice = make_user("alice@example.com", 5)
        link = kaleo.create_link(alice, 3)
        model = kaleo.InvitationLink
        past = utcnow() - dt.timedelta(hours=1)
        db.session.execute(sa.update(model).where(model.id == link.id).values(expires_at=past))
        db.session.commit()
        assert kaleo.purge_expired(dt.timedelta(0), dry_run=True) == PurgeReport(0, 0)
        assert kaleo.purge_expired(dt.timedelta(0)) == PurgeReport(0, 3)
        assert kaleo.purge_expired(dt.timedelta(0)) == PurgeReport(0, 0)  # each link once
        assert stat_row(alice.id) == (5, 0, 0)


# -- deliver without an id sweeps ---------------------------------------------------------


def test_deliver_without_an_id_is_the_sweep(app: Flask, kaleo: Kaleo[User]) -> None:
    with app.app_context():
        report = kaleo.deliver(older_than=dt.timedelta(0))
        assert (report.delivered, report.queued, report.failed) == (0, 0, 0)
        assert kaleo.deliver(12345) == "nothing to do"


# -- signup_email only prefills; signup checks ---------------------------------------------


@pytest.mark.settings(KALEO_REQUIRE_INVITED_EMAIL=True)
def test_signup_email_prefills_and_signup_checks(app: Flask, kaleo: Kaleo[User]) -> None:
    with app.app_context():
        alice = make_user("alice@example.com", 1)
        with app.test_request_context():
            token = kaleo.invite(alice, "carol@example.com").token
    client = app.test_client()
    with client:
        client.get(f"/invites/accept/{token}")
        client.get("/signup")
        assert kaleo.signup_email() == "carol@example.com"
        with pytest.raises(InvitationForAnotherAddress):
            kaleo.signup("mallory@example.com", lambda address: User(email=address))
        assert kaleo.signup_email() == "carol@example.com"  # still pending
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


# -- the import contract ------------------------------------------------------------------


def lint_imports(tmp_path: Path, module: str | None = None, line: str = "") -> str:
    """lint-imports' output for a copy of the package, with ``line`` added to
    ``module`` (a path under flask_kaleo/)."""
    package = Path(flask_kaleo.__file__).parent
    shutil.copytree(
        package,
        tmp_path / "flask_kaleo",
        ignore=shutil.ignore_patterns("__pycache__", "translations", "static"),
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    if module is not None:
        target = tmp_path / "flask_kaleo" / module
        target.write_text(target.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")
    command = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(command), "--no-cache"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.stdout + result.stderr


def test_the_tree_keeps_both_contracts(tmp_path: Path) -> None:
    output = lint_imports(tmp_path)
    assert "Contracts: 2 kept, 0 broken." in output, output


@pytest.mark.parametrize(
    ("module", "line"),
    [
        ("web/staff.py", "from ..core import grants"),
        ("web/views.py", "from ..core.store import Store"),
        ("cli/links.py", "from ..core import links"),
        ("cli/delivery.py", "from ..delivery import rq"),
        ("web/forms.py", "from ..delivery.render import external_url"),
    ],
)
def test_web_or_cli_importing_core_or_delivery_breaks_the_contract(
    tmp_path: Path, module: str, line: str
) -> None:
    output = lint_imports(tmp_path, module, line)
    assert "The HTTP layer and the CLI go through the facade" in output
    assert "BROKEN" in output and "1 broken" in output, output


def test_a_type_checking_import_keeps_the_contract(tmp_path: Path) -> None:
    line = "if t.TYPE_CHECKING:\n    from ..core.store import Store"
    output = lint_imports(tmp_path, "web/staff.py", line)
    assert "Contracts: 2 kept, 0 broken." in output, output
