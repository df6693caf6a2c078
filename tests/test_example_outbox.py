"""The example's outbox: open in debug mode or to staff, a 404 to anyone else; the
HTML email shown in a sandboxed frame, never in the site's own page, beside its
plain-text twin; the demo inviters named by their display names."""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from example_app import create_app
from example_app.extensions import db
from tests.helpers import csrf_token
from tests.helpers.html import parse


def start(tmp_path: Path, **config: t.Any) -> Flask:
    """The example in production mode (no TESTING) unless ``config`` says otherwise."""
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'example.sqlite'}",
            "SECRET_KEY": "t",
            "KALEO_SITE_URL": "http://localhost",
            **config,
        },
        instance_path=str(tmp_path / "instance"),
    )


@pytest.fixture
def stop() -> t.Iterator[list[Flask]]:
    apps: list[Flask] = []
    yield apps
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def logged_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    password = email.split("@")[0] + "-password"
    data = {"email": email, "password": password, "csrf_token": csrf_token(client)}
    assert client.post("/login", data=data).status_code == 303
    return client


def invite(client: FlaskClient, address: str, message: str) -> None:
    data = {"email_address": address, "message": message, "csrf_token": csrf_token(client)}
    reply = client.post("/invites/invite", data=data, headers={"Accept": "application/json"})
    assert reply.json is not None and reply.json["status"] == "OK", reply.json


def links_to_outbox(client: FlaskClient) -> int:
    """The home page's links to the outbox: the header's, the footer's, the story's."""
    return len(parse(client.get("/").text).find("a", href="/outbox"))


def test_outside_debug_mode_only_staff_see_the_outbox(tmp_path: Path, stop: list[Flask]) -> None:
    app = start(tmp_path)
    stop.append(app)
    assert not app.debug and not app.testing
    visitor = app.test_client()
    assert visitor.get("/outbox").status_code == 404
    assert links_to_outbox(visitor) == 0
    assert parse(visitor.get("/").text).find("section", "never-deploy")
    alice = logged_in(app, "alice@example.com")
    assert alice.get("/outbox").status_code == 404
    assert links_to_outbox(alice) == 0
    staff = logged_in(app, "staff@example.com")
    assert staff.get("/outbox").status_code == 200
    assert links_to_outbox(staff) == 3


@pytest.mark.parametrize(("config", "status"), [({}, 200), ({"EXAMPLE_OUTBOX": False}, 404)])
def test_in_debug_mode_anyone_sees_the_outbox_unless_it_is_closed(
    tmp_path: Path, stop: list[Flask], config: dict[str, t.Any], status: int
) -> None:
    app = start(tmp_path, DEBUG=True, **config)
    stop.append(app)
    visitor = app.test_client()
    assert visitor.get("/outbox").status_code == status
    assert links_to_outbox(visitor) == (3 if status == 200 else 0)


def test_the_html_email_is_shown_sandboxed_beside_its_text(
    tmp_path: Path, stop: list[Flask]
) -> None:
    app = start(tmp_path, DEBUG=True)
    stop.append(app)
    invite(logged_in(app, "alice@example.com"), "zoe@example.com", "<b>Hi</b> Zoe")

    raw = app.test_client().get("/outbox").text
    page = parse(raw)
    [frame] = page.find("iframe", "mail-html")
    assert set(frame.attrs["sandbox"].split()) == {"allow-popups", "allow-popups-to-escape-sandbox"}
    assert frame.attrs["title"]
    email = parse(frame.attrs["srcdoc"])  # the attribute, unescaped: the email itself
    button = email.one("a", "kaleo-email-accept")
    url = button.attrs["href"]
    assert url.startswith("http://localhost/invites/accept/")
    assert email.one("base").attrs["target"] == "_blank"
    assert email.one("strong", "kaleo-email-inviter").all_text() == "Alice Martin"
    assert email.one("blockquote", "kaleo-email-message").all_text() == "<b>Hi</b> Zoe"
    # The email's markup is no part of the site's page: only the frame holds it.
    assert not page.find(cls="kaleo-email-accept") and "<table" not in raw
    assert page.one("a", "accept-link").attrs["href"] == url
    text = page.one("details", "mail-text").one("pre").all_text()
    assert url in text and "Alice Martin" in text and "<b>Hi</b> Zoe" in text
    subject = page.one("article", "mail").one("h2").all_text()
    assert subject == "Alice Martin has invited you to join Kaleo Example"


def test_only_the_sites_links_are_offered_as_the_invitations(
    tmp_path: Path, stop: list[Flask]
) -> None:
    """A link the inviter wrote in their message is no "Open the invitation link"."""
    app = start(tmp_path, DEBUG=True)
    stop.append(app)
    message = "Sign up at https://invites.example.net/join first"
    invite(logged_in(app, "alice@example.com"), "zoe@example.com", message)
    page = parse(app.test_client().get("/outbox").text)
    [button] = page.find("a", "accept-link")
    assert button.attrs["href"].startswith("http://localhost/invites/accept/")


def test_the_demo_command_runs_the_example_in_debug_mode_and_warns() -> None:
    """The README's and the tour's one command must open the outbox the story needs,
    and say the example is never to be deployed."""
    root = Path(__file__).resolve().parent.parent
    for page in (root / "README.md", root / "docs" / "example.md"):
        text = page.read_text(encoding="utf-8")
        [command] = [line for line in text.splitlines() if "--app example_app run" in line]
        assert command.startswith("python3 -m venv .venv && ")
        assert command.endswith(".venv/bin/flask --app example_app run --debug"), page
        flat = " ".join(text.split())
        assert "never to be deployed as is" in flat or "never deploy it as is" in flat, page
