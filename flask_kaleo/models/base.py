"""What every kaleo table shares: the status values, the UTC datetime type, the column
pointing at the application's user model, and the builders of the default models."""

from __future__ import annotations

import datetime as dt
import typing as t
from enum import Enum

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.orm import mapped_column
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import FunctionElement

from ..config import UNLIMITED


class Status(str, Enum):
    """What became of an invitation. The value is stored, and used as the CSS class."""

    SENT = "sent"
    ACCEPTED = "accepted"
    JOINED_INDEPENDENTLY = "joined"
    REVOKED = "revoked"
    UNDELIVERABLE = "undeliverable"
    """The email could not be delivered; the invitation went back to the allocation."""


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def table_of(model: type) -> sa.Table:
    """The table a mapped model class writes to (typed, unlike ``model.__table__`` on a
    class known only by its mixin)."""
    return t.cast(sa.Table, sa.inspect(model).local_table)


def rowcount(result: t.Any) -> int:
    """The rows a statement's result says it matched (a conditional UPDATE's verdict)."""
    return int(result.rowcount)


Expiry: t.TypeAlias = "QueryableAttribute[dt.datetime | None]"
"""An expiry column (``expires_at``), as the model's class gives it."""


def not_expired(expires_at: Expiry, now: dt.datetime) -> sa.ColumnElement[bool]:
    """SQL: the expiry column ``expires_at`` has not passed (NULL never expires)."""
    return sa.or_(expires_at.is_(None), expires_at > now)


def expired(expires_at: Expiry, now: dt.datetime) -> sa.ColumnElement[bool]:
    """SQL: the expiry column ``expires_at`` has passed (never true for NULL)."""
    return sa.and_(expires_at.is_not(None), expires_at <= now)


class UTCDateTime(sa.TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on every backend.

    PostgreSQL keeps the zone; SQLite and MariaDB store naive values, so they are
    stored as UTC and handed back with ``tzinfo=UTC``. MariaDB/MySQL ``DATETIME``
    drops fractions of a second unless asked for them, so it gets ``DATETIME(6)``
    and keeps the same instant as the other backends.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[dt.datetime]:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(self.impl)

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("flask-kaleo stores timezone-aware datetimes only")
        value = value.astimezone(dt.timezone.utc)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: object, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        stored = t.cast(dt.datetime, value)  # the DateTime type under it parsed it
        if stored.tzinfo is None:
            return stored.replace(tzinfo=dt.timezone.utc)
        return stored.astimezone(dt.timezone.utc)


ADDRESS_KEY = sa.String(254).with_variant(
    mysql.VARCHAR(254, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
)
"""The type of the comparison keys: compared byte for byte on every backend (SQLite and
PostgreSQL compare text that way; MariaDB/MySQL need a binary collation, or ``rene``
and ``rené`` would be one key). See :func:`flask_kaleo.core.addresses.address_key`."""


def _user_key(cls: type) -> tuple[str, sa.types.TypeEngine[t.Any]]:
    """``"table.column"`` and the type of the user model's single-column primary key."""
    user_model = getattr(cls, "__kaleo_user_model__", None)
    if user_model is None:
        raise TypeError(
            f"{cls.__name__} must set __kaleo_user_model__ to the application's user model"
        )
    primary_key = sa.inspect(user_model).mapper.primary_key
    if len(primary_key) != 1:
        raise TypeError("flask-kaleo needs a user model with a single-column primary key")
    column = primary_key[0]
    return f"{column.table.name}.{column.name}", column.type


def user_column(
    cls: type, *, nullable: bool, primary_key: bool = False, index: bool = True
) -> Mapped[t.Any]:
    """A column holding a user's primary key (whose type is the user model's)."""
    target, type_ = _user_key(cls)
    column = mapped_column(
        type_,
        sa.ForeignKey(target, ondelete="CASCADE" if not nullable else "SET NULL"),
        nullable=nullable,
        primary_key=primary_key,
        index=index and not primary_key,
    )
    return t.cast("Mapped[t.Any]", column)


def invitations_remaining(allocated: int, sent: int) -> int:
    """What an allocation leaves to send: -1 when unlimited, never below 0."""
    return UNLIMITED if allocated == UNLIMITED else max(allocated - sent, 0)


def build_model(mixin: type, base: type, user_model: type, name: str, **attributes: object) -> type:
    """The concrete model ``name`` from ``mixin`` on the application's ``db.Model``."""
    return type(
        name,
        (mixin, base),
        {
            "__kaleo_user_model__": user_model,
            "__module__": __name__,
            "__qualname__": name,
            **attributes,
        },
    )


def shared_model(
    mixin: type, base: type, user_model: type, name: str, **attributes: object
) -> type:
    """The model of ``mixin`` already built on ``base`` for ``user_model`` (several
    Kaleo objects may share one database), or a new one from :func:`build_model`.

    A model built here is kept in the metadata's ``info`` as long as its table is:
    the registry holds its mappers weakly, so a later Kaleo finds the model even
    after every earlier Kaleo is gone."""
    declarative = t.cast(t.Any, base)
    built: dict[tuple[type, type], type] = declarative.metadata.info.setdefault("kaleo_models", {})
    if (mixin, user_model) in built:
        return built[mixin, user_model]
    for mapper in declarative.registry.mappers:
        model = mapper.class_
        if issubclass(model, mixin) and getattr(model, "__kaleo_user_model__", None) is user_model:
            return t.cast(type, model)
    model = build_model(mixin, base, user_model, name, **attributes)
    built[mixin, user_model] = model
    return model


class exact(FunctionElement[str]):
    """A string expression compared byte for byte: as is on SQLite and PostgreSQL
    (their ``=`` on text already is), in a binary collation on MariaDB/MySQL, whose
    default collations treat ``rene`` and ``rené`` as equal."""

    type = sa.String()
    inherit_cache = True
    name = "exact"


@compiles(exact)
def _exact(element: exact, compiler: SQLCompiler, **kw: object) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(exact, "mysql")
@compiles(exact, "mariadb")
def _exact_mysql(element: exact, compiler: SQLCompiler, **kw: object) -> str:
    return f"CONVERT({compiler.process(element.clauses, **kw)} USING utf8mb4) COLLATE utf8mb4_bin"
