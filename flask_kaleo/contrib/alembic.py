"""Alembic autogenerate support: migrations that run as Alembic writes them.

flask-kaleo's time columns use :class:`~flask_kaleo.models.UTCDateTime`, a
``TypeDecorator`` that only converts values in Python. Left alone, Alembic renders it
as ``flask_kaleo.models.UTCDateTime(timezone=True)`` without importing it, and the
migration fails. :func:`render_item` renders it as the plain SQLAlchemy type it stores
instead, so a migration never imports library code. :meth:`flask_kaleo.Kaleo.init_app`
hands it to Flask-Migrate; a project on plain Alembic passes it to
``context.configure`` in its ``env.py``.
"""

from __future__ import annotations

import typing as t

import sqlalchemy as sa
from flask import Flask
from flask import appcontext_pushed
from sqlalchemy.sql.expression import False_
from sqlalchemy.sql.expression import True_

from ..models import UTCDateTime

if t.TYPE_CHECKING:
    from alembic.autogenerate.api import AutogenContext

RenderItem = t.Callable[[str, t.Any, "AutogenContext"], "str | t.Literal[False]"]

UTC_DATETIME_SOURCE = (
    "{sa}DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb')"
)
"""What a migration declares for a :class:`~flask_kaleo.models.UTCDateTime` column:
``TIMESTAMP WITH TIME ZONE`` on PostgreSQL, and on MariaDB/MySQL ``DATETIME(6)``, which
keeps the microseconds its plain ``DATETIME`` would drop."""


def render_item(type_: str, obj: t.Any, autogen_context: AutogenContext) -> str | t.Literal[False]:
    """Alembic's ``render_item`` hook for what flask-kaleo's tables need; False (Alembic's
    own rendering) for everything else.

    - a :class:`~flask_kaleo.models.UTCDateTime` column type becomes the plain type it
      stores, with the ``mysql`` import it needs;
    - a ``server_default`` of ``sa.false()`` or ``sa.true()`` stays that, rather than
      the SQL of the database the script was generated on (``0`` on SQLite, which
      PostgreSQL refuses for a boolean column).

    With plain Alembic, in ``env.py``::

        from flask_kaleo.contrib.alembic import render_item

        context.configure(connection=connection, target_metadata=target_metadata,
                          render_item=render_item)

    A project that has its own hook calls it first and this one when it returns False.
    """
    prefix = autogen_context.opts.get("sqlalchemy_module_prefix", "sa.") or ""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        autogen_context.imports.add("from sqlalchemy.dialects import mysql")
        return UTC_DATETIME_SOURCE.format(sa=prefix)
    if type_ == "server_default" and isinstance(obj, sa.DefaultClause):
        if isinstance(obj.arg, True_):
            return f"{prefix}true()"
        if isinstance(obj.arg, False_):
            return f"{prefix}false()"
    return False


def _chain(host_hook: RenderItem | None) -> RenderItem:
    """``host_hook`` first, then :func:`render_item` for what it leaves to Alembic."""

    def render(type_: str, obj: t.Any, autogen_context: AutogenContext) -> str | t.Literal[False]:
        if host_hook is not None:
            rendered = host_hook(type_, obj, autogen_context)
            if rendered is not False:
                return rendered
        return render_item(type_, obj, autogen_context)

    render.kaleo_render_item = True  # type: ignore[attr-defined]
    return render


def _add_to_flask_migrate(app: Flask) -> bool:
    """Put :func:`render_item` in the arguments Flask-Migrate's ``env.py`` passes to
    ``context.configure``, keeping the app's own hook; False while Flask-Migrate is
    not set up on ``app``."""
    migrate = app.extensions.get("migrate")
    if migrate is None:
        return False
    arguments = getattr(migrate, "configure_args", None)
    if isinstance(arguments, dict):
        host_hook = arguments.get("render_item")
        if not getattr(host_hook, "kaleo_render_item", False):
            arguments["render_item"] = _chain(host_hook)
    return True


def register_with_flask_migrate(app: Flask) -> None:
    """Give Flask-Migrate :func:`render_item`, whether ``Migrate`` was set up on ``app``
    before flask-kaleo or is set up after it (then on the first app context pushed
    once it is there: every ``flask db`` command pushes one)."""
    if _add_to_flask_migrate(app):
        return

    def on_app_context(sender: Flask, **_: t.Any) -> None:
        if _add_to_flask_migrate(sender):
            appcontext_pushed.disconnect(on_app_context, sender)

    appcontext_pushed.connect(on_app_context, app, weak=False)
