"""A tree read bounded whatever the member: the first invitees of each node, in one
recursive query that SQLite, PostgreSQL and MariaDB all run."""

from __future__ import annotations

import typing as t

import sqlalchemy as sa

FANOUT = 20
"""How many invitees of each node a subtree read returns, oldest first: a busy
inviter's tree stays a page's worth (at most ``FANOUT + FANOUT**2 + ...`` nodes to the
depth asked, a few hundred in practice), and each node's count still counts them all."""

Columns: t.TypeAlias = t.Callable[[sa.FromClause], list[sa.ColumnElement[t.Any]]]


def _cutoff(edge: sa.FromClause, parent: sa.ColumnElement[t.Any], column: str) -> t.Any:
    """The ``column`` of ``parent``'s FANOUT-th invitee, oldest first (NULL: it has
    fewer), off the ``(parent_id, joined_at, id)`` index."""
    child = edge.alias("child")
    return (
        sa.select(child.c[column])
        .where(child.c.parent_id == parent)
        .order_by(child.c.joined_at, child.c.id)
        .limit(1)
        .offset(FANOUT - 1)
        .scalar_subquery()
    )


def capped(edge: sa.FromClause, user_id: object, last: int, columns: Columns) -> sa.CTE:
    """The recursive query of the edges below ``user_id`` to ``last`` levels, the
    first FANOUT invitees of each node: ``columns`` of each edge and its ``depth``.

    Each node carries the ``(joined_at, id)`` of its FANOUT-th invitee, a scalar
    subquery, and the next level keeps the invitees up to it: SQLite and MariaDB allow
    neither window functions nor LIMIT in the recursive term, and MariaDB has no
    LATERAL. The first level is a derived table, which may have its LIMIT."""
    first = (
        sa.select(edge)
        .where(edge.c.inviter_id == user_id)
        .order_by(edge.c.joined_at, edge.c.id)
        .limit(FANOUT)
        .subquery("first")
    )

    def cut(row: sa.FromClause, level: t.Any, column: str) -> t.Any:
        # The last level's invitees are not read: no cutoff to look up.
        return sa.case((level < last, _cutoff(edge, row.c.id, column)), else_=sa.null())

    one: sa.ColumnElement[int] = sa.literal_column("1")
    tree = sa.select(
        *columns(first),
        one.label("depth"),
        cut(first, one, "joined_at").label("cut_joined_at"),
        cut(first, one, "id").label("cut_id"),
    ).cte("subtree", recursive=True)
    below = edge.alias("below")
    level = tree.c.depth + 1
    kept = sa.or_(
        tree.c.cut_id.is_(None),
        sa.tuple_(below.c.joined_at, below.c.id) <= sa.tuple_(tree.c.cut_joined_at, tree.c.cut_id),
    )
    return tree.union_all(
        sa.select(
            *columns(below),
            level.label("depth"),
            cut(below, level, "joined_at").label("cut_joined_at"),
            cut(below, level, "id").label("cut_id"),
        )
        .join(tree, sa.and_(below.c.parent_id == tree.c.id, kept))
        .where(tree.c.depth < last)
    )
