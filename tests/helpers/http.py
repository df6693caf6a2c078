"""Requests: the CSRF token, the invite form posted as kaleo's jQuery snippet posts it,
the ERROR answer's shape, and real HTTP clients of a live server."""

from __future__ import annotations

import http.client
import http.cookies
import json
import re
import typing as t
from urllib.parse import urlencode

from flask import Flask
from flask import session as flask_session
from flask.testing import FlaskClient
from flask_wtf.csrf import generate_csrf

from tests.helpers.run import WAIT
from tests.helpers.users import login
from tests.hostapp import User

AJAX = {"X-Requested-With": "XMLHttpRequest", "Accept": "application/json, */*; q=0.01"}
"""What kaleo's original jQuery snippet (jquery.form) sends."""
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def csrf_token(client: FlaskClient, base_url: str | None = None) -> str:
    """A valid CSRF token for the client's session, whatever its pages show (a member
    with no invitations left has no form to read one from). The session keeps the
    secret it already has, so earlier tokens stay valid."""
    kwargs = {} if base_url is None else {"base_url": base_url}
    with client.session_transaction(**kwargs) as session:
        with client.application.test_request_context():
            if "csrf_token" in session:
                flask_session["csrf_token"] = session["csrf_token"]
            token = str(generate_csrf())
            session["csrf_token"] = flask_session["csrf_token"]
    return token


def post_invite(
    client: FlaskClient,
    email: str,
    message: str | None = None,
    *,
    headers: dict[str, str] | None = None,
    token: str | None = None,
) -> t.Any:
    """POST the invite form the way kaleo's original jQuery snippet does."""
    data = {"email_address": email, "csrf_token": token or csrf_token(client)}
    if message is not None:
        data["message"] = message
    return client.post("/invites/invite", data=data, headers=headers or AJAX)


ERRORS = re.compile(r'<ul class="errorlist">(?:<li>[^<>]+</li>)+</ul>')


def assert_error(
    response: t.Any,
    status: int = 200,
    field: str | None = None,
    text: str | None = None,
    *,
    code: str | None = None,
) -> str:
    """The ERROR shape: JSON with ``status`` ERROR and ``errors`` an escaped HTML list
    (containing ``text``); with ``field``, ``error_list`` names it; with ``code``, the
    answer's ``code`` is it and ``error_codes`` lists it under ``field`` (``__all__``
    when none). Returns ``errors``."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.json
    assert body["status"] == "ERROR", body
    assert ERRORS.fullmatch(body["errors"]), body["errors"]
    if text is not None:
        assert text in body["errors"], body["errors"]
    if field is not None:
        assert body["error_list"][field], body
    if code is not None:
        assert body["code"] == code, body
        assert code in body["error_codes"][field or "__all__"], body
    return str(body["errors"])


class Reply(t.NamedTuple):
    """What ``assert_error`` reads of a response, from a real HTTP answer."""

    status_code: int
    mimetype: str
    text: str

    @property
    def json(self) -> t.Any:
        return json.loads(self.text)

    def get_data(self, as_text: bool = False) -> str:
        return self.text


class Browser:
    """An HTTP client with its own cookies and CSRF token, talking to a live server.
    Its form posts say they come from kaleo's script (``X-Requested-With``) unless
    ``ajax`` is False."""

    def __init__(
        self, port: int, session: tuple[dict[str, str], str], *, ajax: bool = True
    ) -> None:
        self.port = port
        self.cookies = dict(session[0])
        self.csrf_token = session[1]
        self.ajax = ajax

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Reply:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=WAIT)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            if self.ajax:
                headers.update(AJAX)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            for header in response.headers.get_all("Set-Cookie") or []:
                jar = http.cookies.SimpleCookie(header)
                self.cookies.update({name: morsel.value for name, morsel in jar.items()})
            return Reply(
                response.status, response.headers.get_content_type(), response.read().decode()
            )
        finally:
            connection.close()

    def open_page(self) -> None:
        assert self.request("GET", "/").status_code == 200

    def invite(self, email: str) -> Reply:
        form = {"email_address": email, "csrf_token": self.csrf_token}
        return self.request("POST", "/invites/invite", form)

    def act(self, action: str, invitation_id: int) -> Reply:
        """Resend or revoke one of the signed-in member's invitations."""
        form = {"csrf_token": self.csrf_token}
        return self.request("POST", f"/invites/{action}/{invitation_id}", form)


def signed_in_session(app: Flask, user: User) -> tuple[dict[str, str], str]:
    """The cookies and CSRF token of a browser signed in as ``user``."""
    client = app.test_client()
    login(client, user)
    token = csrf_token(client)
    cookie = client.get_cookie("session")
    assert cookie is not None
    return {"session": cookie.value}, token


def join(app: Flask, token: str, email: str) -> t.Any:
    """A visitor follows the link of ``token`` and signs up as ``email`` through the
    host app's signup view (which calls kaleo.signup)."""
    visitor = app.test_client()
    assert visitor.get(f"/invites/accept/{token}").status_code == 303
    return visitor.post("/join", data={"email": email, "csrf_token": csrf_token(visitor)})
