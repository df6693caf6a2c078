"""What the ``flask kaleo`` commands say besides their work: why a grant to one member
changed nothing."""

from __future__ import annotations

import click
import pytest
from flask import Flask

from tests.helpers import make_user


def run(app: Flask, *args: str) -> click.testing.Result:
    return app.test_cli_runner().invoke(args=["kaleo", *args])


# -- why a grant to one member changed nothing --------------------------------------


DEFAULT_FIVE = pytest.mark.settings(KALEO_DEFAULT_INVITE_ALLOCATION=5)


@pytest.fixture
def members(app: Flask) -> None:
    with app.app_context():
        make_user("some@example.com", allocation=2)  # 2 left
        make_user("none@example.com", allocation=0)
        make_user("unlimited@example.com", allocation=-1)
        make_user("rowless@example.com")  # the default allocation: 5 left


@pytest.mark.usefixtures("members")
@DEFAULT_FIVE
@pytest.mark.parametrize(
    ("args", "why"),
    [
        (
            ["add-invites", "3", "--user", "some@example.com"],
            "some@example.com still has 2 invitations left: add-invites adds only to members"
            " with none left. Use 'add-invites 3 --everyone --user some@example.com' to add"
            " anyway, or 'set-allocation some@example.com N' for an exact allocation.",
        ),
        (
            ["add-invites", "1", "--user", "rowless@example.com"],
            "rowless@example.com still has 5 invitations left: add-invites adds only to"
            " members with none left. Use 'add-invites 1 --everyone --user"
            " rowless@example.com' to add anyway, or 'set-allocation rowless@example.com N'"
            " for an exact allocation.",
        ),
        (
            ["add-invites", "3", "--everyone", "--user", "unlimited@example.com"],
            "unlimited@example.com already has unlimited invitations, which add-invites"
            " leaves alone.",
        ),
        (
            ["topoff-invites", "2", "--user", "some@example.com"],
            "some@example.com already has 2 invitations left, at least 2.",
        ),
        (
            ["topoff-invites", "4", "--user", "unlimited@example.com"],
            "unlimited@example.com already has unlimited invitations, which topoff-invites"
            " leaves alone.",
        ),
        (
            ["infinite-invites", "--user", "unlimited@example.com"],
            "unlimited@example.com already has unlimited invitations, which infinite-invites"
            " leaves alone.",
        ),
    ],
)
def test_a_grant_that_changes_no_one_says_why(app: Flask, args: list[str], why: str) -> None:
    result = run(app, *args)

    assert result.exit_code == 0, result.output
    first, second = result.output.splitlines()
    assert " 0 users" in first
    assert second == why


@pytest.mark.usefixtures("members")
@DEFAULT_FIVE
@pytest.mark.parametrize(
    ("args", "output"),
    [
        (["add-invites", "3", "--user", "none@example.com"], "Added 3 invitations to 1 user.\n"),
        (
            ["add-invites", "3", "--everyone", "--user", "some@example.com"],
            "Added 3 invitations to 1 user.\n",
        ),
        (["add-invites", "3"], "Added 3 invitations to 1 user.\n"),  # none@ only: no why
        (
            ["topoff-invites", "9", "--user", "some@example.com"],
            "Topped off 1 user to at least 9 invitations remaining.\n",
        ),
    ],
)
def test_a_grant_that_changes_someone_or_names_no_one_gives_no_reason(
    app: Flask, args: list[str], output: str
) -> None:
    result = run(app, *args)

    assert result.exit_code == 0, result.output
    assert result.output == output
