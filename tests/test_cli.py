"""``flask kaleo add-invites`` and ``topoff-invites``, through Flask's CLI runner. Their
set-based statements run on every database; usage errors and the group's name on SQLite.

Each test builds users of every kind: none left, some left, plenty left, unlimited, and
no stat row at all (which counts with ``KALEO_DEFAULT_INVITE_ALLOCATION``).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from click.testing import Result
from flask import Flask

from flask_kaleo import Kaleo
from tests.helpers import Statements
from tests.helpers import current_kaleo
from tests.hostapp import User
from tests.hostapp import db

Stats = dict[str, tuple[int, int] | None]
"""Each user's (invites_allocated, invites_sent) by email; None without a stat row."""

KINDS: dict[str, tuple[int, int] | None] = {
    "empty": (2, 2),  # 0 left
    "some": (5, 2),  # 3 left
    "plenty": (10, 0),  # 10 left
    "unlimited": (-1, 4),
    "norow": None,
}


def add_users(count: int) -> None:
    """``count`` users cycling through KINDS, named ``<kind><n>@example.com``; one commit."""
    kinds = [list(KINDS)[n % len(KINDS)] for n in range(count)]
    users = [User(email=f"{kind}{n}@example.com") for n, kind in enumerate(kinds)]
    db.session.add_all(users)
    db.session.flush()
    for user, kind in zip(users, kinds, strict=True):
        stat = KINDS[kind]
        if stat is not None:
            db.session.add(
                current_kaleo().InvitationStat(
                    user_id=user.id,
                    invites_allocated=stat[0],
                    invites_sent=stat[1],
                    invites_accepted=0,
                )
            )
    db.session.commit()


def stats() -> Stats:
    table = current_kaleo().InvitationStat.__table__
    rows = db.session.execute(
        sa.select(User.email, table.c.invites_allocated, table.c.invites_sent).outerjoin(
            table, table.c.user_id == User.id
        )
    )
    return {
        email: None if allocated is None else (allocated, sent) for email, allocated, sent in rows
    }


def run(app: Flask, *args: str) -> Result:
    """Invoke ``flask <args>`` the way a shell would, outside any app context."""
    return app.test_cli_runner().invoke(args=list(args))


@pytest.fixture
def people(app: Flask) -> Stats:
    """One user of each kind (empty0, some1, plenty2, unlimited3, norow4); their stats."""
    with app.app_context():
        add_users(len(KINDS))
        return stats()


def changed(before: Stats, after: Stats) -> dict[str, tuple[int, int] | None]:
    return {email: after[email] for email in after if after[email] != before[email]}


# -- add-invites ---------------------------------------------------------------------


@pytest.mark.all_backends
def test_add_invites_adds_to_users_with_none_left_and_counts_rowless_users_as_empty(
    app: Flask, people: Stats
) -> None:
    result = run(app, "kaleo", "add-invites", "10")

    assert result.exit_code == 0, result.output
    assert result.output == "Added 10 invitations to 2 users.\n"
    with app.app_context():
        assert changed(people, stats()) == {
            "empty0@example.com": (12, 2),
            "norow4@example.com": (10, 0),  # default allocation 0: none left
        }


@pytest.mark.all_backends
@pytest.mark.settings(KALEO_DEFAULT_INVITE_ALLOCATION=3)
def test_add_invites_leaves_rowless_users_alone_when_the_default_leaves_them_some(
    app: Flask, people: Stats, kaleo: Kaleo[User]
) -> None:
    result = run(app, "kaleo", "add-invites", "10")

    assert result.output == "Added 10 invitations to 1 user.\n"
    with app.app_context():
        assert changed(people, stats()) == {"empty0@example.com": (12, 2)}
        norow = db.session.scalars(sa.select(User).filter_by(email="norow4@example.com")).one()
        assert kaleo.invitations_remaining(norow) == 3


@pytest.mark.all_backends
@pytest.mark.parametrize(
    "default", [0, pytest.param(3, marks=pytest.mark.settings(KALEO_DEFAULT_INVITE_ALLOCATION=3))]
)
def test_add_invites_all_adds_to_every_finite_allocation(
    app: Flask, people: Stats, default: int
) -> None:
    result = run(app, "kaleo", "add-invites", "10", "--all")

    assert result.exit_code == 0, result.output
    assert result.output == "Added 10 invitations to 4 users.\n"
    with app.app_context():
        assert changed(people, stats()) == {
            "empty0@example.com": (12, 2),
            "some1@example.com": (15, 2),
            "plenty2@example.com": (20, 0),
            "norow4@example.com": (default + 10, 0),
        }


# -- topoff-invites ------------------------------------------------------------------


@pytest.mark.all_backends
@pytest.mark.parametrize(
    "default", [0, pytest.param(3, marks=pytest.mark.settings(KALEO_DEFAULT_INVITE_ALLOCATION=3))]
)
def test_topoff_gives_everyone_at_least_n_and_leaves_richer_and_unlimited_users(
    app: Flask, people: Stats, default: int, kaleo: Kaleo[User]
) -> None:
    result = run(app, "kaleo", "topoff-invites", "4")

    assert result.exit_code == 0, result.output
    assert result.output == "Topped off 3 users to at least 4 invitations remaining.\n"
    with app.app_context():
        assert changed(people, stats()) == {
            "empty0@example.com": (6, 2),
            "some1@example.com": (6, 2),
            "norow4@example.com": (4, 0),
        }
        for user in db.session.scalars(sa.select(User)):
            remaining = kaleo.invitations_remaining(user)
            assert remaining == -1 or remaining >= 4, user


@pytest.mark.all_backends
@pytest.mark.settings(KALEO_DEFAULT_INVITE_ALLOCATION=3)
def test_topoff_below_the_default_needs_no_rows_for_rowless_users(
    app: Flask, people: Stats
) -> None:
    result = run(app, "kaleo", "topoff-invites", "3")

    assert result.output == "Topped off 1 user to at least 3 invitations remaining.\n"
    with app.app_context():
        assert changed(people, stats()) == {"empty0@example.com": (5, 2)}


# -- one user ------------------------------------------------------------------------


@pytest.mark.all_backends
@pytest.mark.parametrize("how", ["email", "EMAIL", "id"])
@pytest.mark.parametrize(
    ("command", "target", "expected", "output"),
    [
        (
            ["add-invites", "10", "--all"],
            "some1@example.com",
            (15, 2),
            "Added 10 invitations to 1 user.\n",
        ),
        (
            ["add-invites", "10"],
            "norow4@example.com",
            (10, 0),
            "Added 10 invitations to 1 user.\n",
        ),
        (
            ["topoff-invites", "5"],
            "empty0@example.com",
            (7, 2),
            "Topped off 1 user to at least 5 invitations remaining.\n",
        ),
    ],
)
def test_user_option_targets_one_user_by_email_in_any_case_or_by_id(
    app: Flask,
    people: Stats,
    command: list[str],
    target: str,
    expected: tuple[int, int],
    output: str,
    how: str,
) -> None:
    with app.app_context():
        user_id = db.session.scalars(sa.select(User.id).filter_by(email=target)).one()
    selector = {"email": target, "EMAIL": target.upper(), "id": str(user_id)}[how]

    result = run(app, "kaleo", *command, "--user", selector)

    assert result.exit_code == 0, result.output
    assert result.output == output
    with app.app_context():
        assert changed(people, stats()) == {target: expected}


@pytest.mark.all_backends
def test_user_option_on_a_user_who_needs_nothing_reports_zero(app: Flask, people: Stats) -> None:
    result = run(app, "kaleo", "add-invites", "10", "--user", "plenty2@example.com")

    assert result.exit_code == 0, result.output
    assert result.output.startswith(
        "Added 10 invitations to 0 users.\nplenty2@example.com still has 10"
    )
    with app.app_context():
        assert stats() == people


# -- bad input -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["add-invites", "ten"],
        ["add-invites", "2.5"],
        ["add-invites", "-1"],
        ["add-invites", "--", "-1"],
        ["add-invites", "--all", "-3"],
        ["topoff-invites", "many"],
        ["topoff-invites", "--", "-5"],
        ["add-invites", "1000001"],
        ["topoff-invites", "100000000000000000000"],
        ["add-invites"],
        ["add-invites", "3", "--user", "nobody@example.com"],
        ["add-invites", "3", "--user", "99999"],
        ["topoff-invites", "3", "--user", "not-an-id"],
        ["topoff-invites", "3", "--user", "9" * 30],  # beyond any database integer
        ["add-invites", "3", "--user", "-" + "9" * 30],
    ],
)
def test_bad_input_is_a_usage_error_that_changes_nothing(
    app: Flask, people: Stats, args: list[str]
) -> None:
    result = run(app, "kaleo", *args)

    assert result.exit_code == 2, result.output
    assert "Usage: " in result.output and "Error: " in result.output
    with app.app_context():
        assert stats() == people


@pytest.mark.all_backends
@pytest.mark.parametrize(
    "args",
    [
        ["add-invites", "3", "--user", "some1\x00@example.com"],
        ["topoff-invites", "3", "--user", "some1@example.com\x00"],
        ["add-invites", "3", "--user", "1\x00"],
        ["topoff-invites", "3", "--user", "some1\x1b@example.com"],
    ],
)
def test_a_user_with_a_nul_is_a_usage_error(
    app: Flask, people: Stats, args: list[str], kaleo: Kaleo[User]
) -> None:
    """PostgreSQL refuses NUL in a query's text: such a value never reaches it, and is
    nobody's address or id."""
    result = run(app, "kaleo", *args)

    assert result.exit_code == 2, result.output
    assert "Error: Invalid value for '--user': no user with the email address" in result.output
    assert repr(args[-1]) in result.output
    with app.app_context():
        assert stats() == people
        assert kaleo.hooks.member("some1\x00@example.com") is None
        assert kaleo.hooks.member(args[-1]) is None
        assert kaleo.hooks.member("some1@example.com") is not None


# -- set-based: the same statements for 10 users as for 300 --------------------------


@pytest.mark.all_backends
@pytest.mark.parametrize(
    "command",
    [
        ["add-invites", "5"],
        ["add-invites", "5", "--all"],
        ["topoff-invites", "5"],
        ["topoff-invites", "5", "--user", "some1@example.com"],
    ],
)
def test_statement_count_does_not_grow_with_the_number_of_users(
    app: Flask, command: list[str], kaleo: Kaleo[User]
) -> None:
    def statements_for(count: int) -> tuple[int, Stats]:
        with app.app_context():
            db.session.execute(sa.delete(kaleo.InvitationStat))
            db.session.execute(sa.delete(User))
            db.session.commit()
            add_users(count)
            recorder = Statements(db.engine)
        with recorder:
            result = run(app, "kaleo", *command)
        assert result.exit_code == 0, result.output
        with app.app_context():
            return recorder.count, stats()

    small, small_stats = statements_for(10)
    large, large_stats = statements_for(300)

    assert small == large
    assert small <= 4
    assert small_stats != large_stats and len(large_stats) == 300  # it did work on both
    with app.app_context():
        unlimited = [s for e, s in large_stats.items() if e.startswith("unlimited")]
        assert unlimited and all(s == (-1, 4) for s in unlimited)
