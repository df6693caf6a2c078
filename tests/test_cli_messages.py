"""What the ``flask kaleo`` commands say besides their work: why a grant to one member
changed nothing, and every form an argument or option accepts in ``--help``."""

from __future__ import annotations

import click
import pytest
from flask import Flask

from flask_kaleo.cli import kaleo_cli
from flask_kaleo.cli.params import Duration
from flask_kaleo.config import MAX_AMOUNT
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


# -- --help shows every form -----------------------------------------------------------


COMMANDS = sorted(kaleo_cli.commands.items())
WITH_DURATIONS = [
    name for name, command in COMMANDS if any(isinstance(p.type, Duration) for p in command.params)
]


def help_of(app: Flask, name: str) -> str:
    result = run(app, name, "--help")
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())  # unwrapped


@pytest.mark.parametrize(
    "name",
    [
        name
        for name, command in COMMANDS
        if any(isinstance(p.type, Duration) for p in command.params)
    ],
)
def test_every_duration_option_shows_every_form_it_accepts(app: Flask, name: str) -> None:
    text = help_of(app, name)
    durations = [p for p in kaleo_cli.commands[name].params if isinstance(p.type, Duration)]
    for param in durations:
        assert isinstance(param.type, Duration)
        mentioned = text.split(param.opts[0], 1)[1]
        for form in ("90m", "36h", "7d", "2w", "1d12h"):
            assert form in mentioned, (name, param.opts, form)
        assert ("; 0 " in mentioned.split("--", 1)[0]) == param.type.allow_zero, (name, text)


def test_the_commands_with_durations_are_the_ones_expected() -> None:
    assert set(WITH_DURATIONS) == {"create-link", "deliver", "extend", "purge-expired", "remind"}


@pytest.mark.parametrize(
    "name",
    [name for name, command in COMMANDS if any(p.name == "amount" for p in command.params)],
)
def test_every_amount_argument_states_its_range(app: Flask, name: str) -> None:
    assert f"N is a whole number from 0 to {MAX_AMOUNT:,}." in help_of(app, name)


def test_set_allocation_states_every_form_of_n(app: Flask) -> None:
    text = help_of(app, "set-allocation")
    assert f"N: a whole number from 0 to {MAX_AMOUNT:,}, or unlimited or -1" in text


def test_wrong_arguments_still_exit_2_with_a_usage_message(app: Flask) -> None:
    for args in (["remind", "--after", "90"], ["add-invites", "many"], ["purge-expired", "-x"]):
        result = run(app, *args)
        assert result.exit_code == 2, (args, result.output)
        assert result.output.startswith("Usage: "), result.output
