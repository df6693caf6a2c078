"""Shareable links in tests: one made in a request context, its join path, a signup
through the host app's join view, the create endpoint posted, a link aged past expiry."""

from __future__ import annotations

import datetime as dt
import typing as t
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask.testing import FlaskClient

from flask_kaleo.models import utcnow
from tests.helpers.extension import current_kaleo
from tests.helpers.http import AJAX
from tests.helpers.http import csrf_token
from tests.hostapp import User
from tests.hostapp import db


def path_of(url: str | None) -> str:
    assert url is not None
    path = urlsplit(url).path
    assert path.startswith("/invites/join/"), url
    return path


def new_link(inviter: User, uses: int, **options: t.Any) -> tuple[int, str]:
    """A link from ``inviter`` (in a request context); its id and its path."""
    link = current_kaleo().create_link(inviter, uses, **options)
    return link.id, path_of(link.url)


def join_as(client: FlaskClient, email: str) -> t.Any:
    """Sign up through the host app's signup view, as docs/accepting.md writes one."""
    return client.post("/join", data={"email": email, "csrf_token": csrf_token(client)})


def reload_link(link_id: int) -> t.Any:
    db.session.expire_all()
    link = db.session.get(current_kaleo().InvitationLink, link_id)
    assert link is not None
    return link


def expire_link(link_id: int) -> None:
    model = current_kaleo().InvitationLink
    db.session.execute(
        sa.update(model)
        .where(model.id == link_id)
        .values(expires_at=utcnow() - dt.timedelta(hours=1))
    )
    db.session.commit()


def post_link(
    client: FlaskClient,
    data: dict[str, str] | None = None,
    *,
    headers: dict[str, str] | None = None,
    **fields: str,
) -> t.Any:
    form = {"csrf_token": csrf_token(client), **(data or {}), **fields}
    return client.post("/invites/links", data=form, headers=headers or AJAX)
