"""Who invited whom: the referral edges, written when an invitation or a link is
accepted, and read as a chain up or a tree down, each by one recursive query."""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing as t

import sqlalchemy as sa

from ..models import table_of
from ..models import utcnow
from . import subtree
from .counters import dialect_of
from .counters import insert_if_absent
from .store import Store

U = t.TypeVar("U")


@dataclasses.dataclass(frozen=True)
class Node:
    """A member in the tree: the edge by which they joined (``user_id``, ``label``),
    from whom (``inviter_id``, ``inviter_label``), at ``depth``: in a subtree, 1 is
    invited by the member asked about; in the ancestors, 1 is the member's own edge
    and ``k`` the edge whose inviter is ``k`` levels up."""

    referral_id: int
    user_id: object | None
    """NULL once the account is deleted (``label`` stays)."""
    label: str
    inviter_id: object | None
    inviter_label: str
    joined_at: dt.datetime
    depth: int
    invitees: int
    """How many they brought in themselves."""
    via: str
    """``invitation`` or ``link``."""
    more: int = 0
    """How many of their direct invitees the subtree leaves out past ``subtree.FANOUT``
    (``invitees - FANOUT``; 0 at the last level read, whose invitees are not read)."""


@dataclasses.dataclass(frozen=True)
class Lineage:
    """A member's place in the tree."""

    ancestors: list[Node]
    """The edges from the member up to the root, nearest first: the member's own edge
    (its inviter is who invited them), their inviter's edge (whose inviter invited
    that member), ... The last edge's inviter is the root, whom nobody invited."""
    subtree: list[Node]
    """Everyone they brought in, to ``depth`` levels, in tree order (each node after
    its parent, siblings oldest first): the first ``subtree.FANOUT`` invitees of each
    node (see :attr:`Node.more`)."""
    total_invitees: int
    """How many they brought in directly."""
    more: int = 0
    """How many of those the subtree leaves out past ``subtree.FANOUT``."""


MAX_DEPTH = 1000
"""How far a tree read follows the edges: deeper than any real chain, and a bound on
the recursion should an edited row ever close a cycle."""


def _user_key(store: Store[U]) -> sa.ColumnElement[t.Any]:
    """The user model's primary-key column."""
    return t.cast("sa.ColumnElement[t.Any]", sa.inspect(store.user_model).mapper.primary_key[0])


def invited_by(store: Store[U], user: U) -> U | None:
    """The member whose invitation or link ``user`` accepted (None: nobody, or that
    account is gone)."""
    edge = store.Referral
    statement = (
        sa.select(store.user_model)
        .join(edge, edge.inviter_id == _user_key(store))
        .where(edge.invitee_id == store.user_id(user))
    )
    return store.session.scalars(statement).first()


def invitees(store: Store[U], user: U) -> list[U]:
    """The members ``user`` brought in, oldest first (deleted accounts left out)."""
    edge = store.Referral
    statement = (
        sa.select(store.user_model)
        .join(edge, edge.invitee_id == _user_key(store))
        .where(edge.inviter_id == store.user_id(user))
        .order_by(edge.joined_at, edge.id)
    )
    return list(store.session.scalars(statement))


def _node_columns(edge: sa.FromClause) -> list[sa.ColumnElement[t.Any]]:
    return [
        edge.c.id,
        edge.c.invitee_id,
        edge.c.invitee_label,
        edge.c.inviter_id,
        edge.c.inviter_label,
        edge.c.joined_at,
        edge.c.link_id,
        edge.c.parent_id,
    ]


def _nodes(
    store: Store[U], tree: sa.CTE, order: t.Sequence[t.Any], extra: t.Any = None
) -> list[tuple[Node, object, t.Any]]:
    """Read the edges ``tree`` found, each with its number of direct invitees, its
    parent edge's id and ``extra`` (a scalar the caller wants alongside), in one
    statement (the recursive query and the counts)."""
    child = table_of(store.Referral).alias("child")
    invitees = (
        sa.select(sa.func.count())
        .select_from(child)
        .where(child.c.parent_id == tree.c.id)
        .scalar_subquery()
    )
    statement = sa.select(
        *_node_columns(tree),
        tree.c.depth,
        invitees.label("invitees"),
        sa.null() if extra is None else extra,
    ).order_by(*order)
    return [
        (
            Node(
                referral_id=row.id,
                user_id=row.invitee_id,
                label=row.invitee_label,
                inviter_id=row.inviter_id,
                inviter_label=row.inviter_label,
                joined_at=row.joined_at,
                depth=row.depth,
                invitees=row.invitees,
                via="invitation" if row.link_id is None else "link",
            ),
            row.parent_id,
            row[-1],
        )
        for row in store.session.execute(statement)
    ]


def _ancestors(store: Store[U], user_id: object) -> list[Node]:
    """``user_id``'s own edge, then its inviter's, ... up to the root: nearest first."""
    edge = table_of(store.Referral)
    chain = (
        sa.select(*_node_columns(edge), sa.literal_column("1").label("depth"))
        .where(edge.c.invitee_id == user_id)
        .cte("ancestors", recursive=True)
    )
    above = edge.alias("above")
    chain = chain.union_all(
        sa.select(*_node_columns(above), (chain.c.depth + 1).label("depth"))
        .join(chain, above.c.id == chain.c.parent_id)
        .where(chain.c.depth < MAX_DEPTH)
    )
    return [node for node, _, _ in _nodes(store, chain, [chain.c.depth])]


def _subtree(store: Store[U], user_id: object, depth: int) -> tuple[list[Node], int]:
    """The edges below ``user_id`` to ``depth`` levels, in tree order, the first
    FANOUT invitees of each node (see :func:`.subtree.capped`); and how many
    ``user_id`` brought in directly, in the same statement."""
    edge = table_of(store.Referral)
    last = min(depth, MAX_DEPTH)
    tree = subtree.capped(edge, user_id, last, _node_columns)
    total = (
        sa.select(sa.func.count())
        .select_from(edge)
        .where(edge.c.inviter_id == user_id)
        .scalar_subquery()
    )
    rows = _nodes(store, tree, [tree.c.depth, tree.c.joined_at, tree.c.id], total)
    direct = rows[0][2] if rows else 0
    capped = [
        (dataclasses.replace(node, more=max(node.invitees - subtree.FANOUT, 0)), parent)
        if node.depth < last
        else (node, parent)
        for node, parent, _ in rows
    ]
    return _in_tree_order(capped), direct


def _in_tree_order(rows: list[tuple[Node, object]]) -> list[Node]:
    """``rows`` (by depth, siblings oldest first) with each node followed by its
    subtree: a walk depth first, without recursion (a chain may be deep)."""
    children: dict[object, list[Node]] = {}
    top: list[Node] = []
    for node, parent in rows:
        if node.depth == 1:
            top.append(node)
        else:
            children.setdefault(parent, []).append(node)
    ordered: list[Node] = []
    stack = list(reversed(top))
    while stack:
        node = stack.pop()
        ordered.append(node)
        stack.extend(reversed(children.get(node.referral_id, [])))
    return ordered


def lineage(store: Store[U], user: U, depth: int) -> Lineage:
    """``user``'s chain up and tree down (to ``depth`` levels): two recursive reads.

    The tree holds the first ``subtree.FANOUT`` invitees (oldest first) of ``user`` and
    of each node, so its size is bounded whatever the member: ``Node.more`` and
    ``Lineage.more`` say how many each leaves out, ``invitees`` and
    ``total_invitees`` count them all."""
    user_id = store.user_id(user)
    ancestors = _ancestors(store, user_id)
    if depth >= 1:
        nodes, total = _subtree(store, user_id, depth)
    else:
        nodes = []
        edge = store.Referral
        counted = sa.select(sa.func.count()).where(edge.inviter_id == user_id)
        total = store.session.execute(counted).scalar_one()
    more = max(total - subtree.FANOUT, 0) if depth >= 1 else 0
    return Lineage(ancestors=ancestors, subtree=nodes, total_invitees=total, more=more)


def descendant_ids(store: Store[U], user_id: object, depth: int) -> list[object]:
    """The user ids of everyone ``user_id`` brought in, to ``depth`` levels (deleted
    accounts left out), by one recursive query."""
    if depth < 1:
        return []
    edge = table_of(store.Referral)
    tree = (
        sa.select(edge.c.id, edge.c.invitee_id, sa.literal_column("1").label("depth"))
        .where(edge.c.inviter_id == user_id)
        .cte("descendants", recursive=True)
    )
    below = edge.alias("below")
    tree = tree.union_all(
        sa.select(below.c.id, below.c.invitee_id, (tree.c.depth + 1).label("depth"))
        .join(tree, below.c.parent_id == tree.c.id)
        .where(tree.c.depth < min(depth, MAX_DEPTH))
    )
    statement = sa.select(tree.c.invitee_id).where(tree.c.invitee_id.is_not(None))
    return list(store.session.scalars(statement.order_by(tree.c.depth, tree.c.id)))


def record_referral(
    store: Store[U],
    invitee_id: object,
    invitee_label: str,
    inviter_id: object | None,
    inviter_label: str,
    *,
    invitation_id: int | None = None,
    link_id: int | None = None,
) -> None:
    """Write the edge of a member who just joined, in the accepting transaction (a
    member who already has one keeps it): one INSERT, whose parent is the inviter's
    own edge, found by a subquery. A member who brought people in already gets none:
    the inviter could be below them, closing a circle (a signup's member is new)."""
    session = store.session
    table = table_of(store.Referral)
    dialect = dialect_of(session).name
    if inviter_id is not None and session.scalar(
        sa.select(sa.exists().where(table.c.inviter_id == invitee_id))
    ):
        return
    parent = table.alias("parent")
    parent_id: sa.ScalarSelect[t.Any] | None = None
    if inviter_id is not None:
        found = sa.select(parent.c.id).where(parent.c.invitee_id == inviter_id)
        if dialect in ("mysql", "mariadb"):  # a derived table lets it read the table it writes
            derived = found.subquery("found")
            found = sa.select(derived.c.id)
        parent_id = found.scalar_subquery()
    statement = insert_if_absent(table, dialect, "invitee_id").values(
        invitee_id=invitee_id,
        invitee_label=invitee_label[:254],
        inviter_id=inviter_id,
        inviter_label=inviter_label[:254],
        joined_at=utcnow(),
        invitation_id=invitation_id,
        link_id=link_id,
        parent_id=parent_id,
    )
    session.execute(statement)
