"""Who invited whom: the referral edge written when an invitation or a link is
accepted, and the reads of the tree (inviter, invitees, the chain up, the subtree,
the ids below), each tree read one recursive query, on every database."""

from __future__ import annotations

import typing as t

import pytest
import sqlalchemy as sa
from flask import Flask

from flask_kaleo import Kaleo
from flask_kaleo.core import lineage as lineages
from flask_kaleo.core import subtree
from tests.helpers import Statements
from tests.helpers import make_user
from tests.hostapp import User
from tests.hostapp import db

pytestmark = pytest.mark.all_backends


@pytest.fixture
def ctx(app: Flask) -> t.Iterator[None]:
    with app.test_request_context():
        yield


def bring_in(kaleo: Kaleo[User], inviter: User, email: str) -> User:
    """``inviter`` invites ``email`` (no email sent), who signs up and accepts."""
    invitation = kaleo.invite(inviter, email, send=False)
    user = User(email=email)
    db.session.add(user)
    kaleo.accept(invitation, user)
    db.session.commit()
    kaleo.set_allocation(user, 5)
    return user


def join_by_link(kaleo: Kaleo[User], creator: User, email: str) -> User:
    link = kaleo.create_link(creator, 2)
    user = User(email=email)
    db.session.add(user)
    kaleo.accept(link, user)
    db.session.commit()
    kaleo.set_allocation(user, 5)
    return user


def delete_account(user: User) -> None:
    """Delete ``user`` as the app would, with the foreign keys enforced (SQLite only
    enforces them when asked, per connection)."""
    user_id = user.id
    db.session.commit()  # and no snapshot (MariaDB) taken before the deletion
    with db.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys = ON")
        connection.execute(sa.delete(User).where(User.id == user_id))
        connection.commit()
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
    db.session.expire_all()


def names(nodes: list[lineages.Node]) -> list[tuple[str, int, int]]:
    return [(node.label, node.depth, node.invitees) for node in nodes]


def test_no_edge_closes_a_circle(kaleo: Kaleo[User], ctx: None) -> None:
    """alice brought bob in; alice then accepting bob's link gets no edge, so neither
    is the other's ancestor."""
    alice = make_user("alice@example.com", allocation=5)
    bob = bring_in(kaleo, alice, "bob@example.com")
    kaleo.accept(kaleo.create_link(bob, 2), alice)
    db.session.commit()
    assert kaleo.invited_by(alice) is None
    assert kaleo.invited_by(bob) == alice
    assert kaleo.lineage(alice).ancestors == []
    assert names(kaleo.lineage(alice).subtree) == [("bob@example.com", 1, 0)]


def test_accepting_writes_the_edge_with_its_parent(kaleo: Kaleo[User], ctx: None) -> None:
    alice = make_user("alice@example.com", allocation=5)
    bob = bring_in(kaleo, alice, "bob@example.com")
    carol = join_by_link(kaleo, bob, "carol@example.com")
    edges = {e.invitee_label: e for e in db.session.scalars(sa.select(kaleo.Referral))}
    assert set(edges) == {"bob@example.com", "carol@example.com"}
    bob_edge, carol_edge = edges["bob@example.com"], edges["carol@example.com"]
    assert (bob_edge.inviter_id, bob_edge.invitee_id, bob_edge.parent_id) == (
        alice.id,
        bob.id,
        None,
    )
    assert bob_edge.invitation_id is not None and bob_edge.link_id is None
    assert (carol_edge.inviter_id, carol_edge.parent_id) == (bob.id, bob_edge.id)
    assert carol_edge.link_id is not None and carol_edge.invitation_id is None
    assert carol_edge.inviter_label == "bob@example.com"
    assert kaleo.invited_by(carol) == bob and kaleo.invited_by(bob) == alice
    assert kaleo.invited_by(alice) is None
    assert kaleo.invitees(alice) == [bob] and kaleo.invitees(bob) == [carol]


def test_a_member_keeps_their_first_edge(kaleo: Kaleo[User], ctx: None) -> None:
    alice = make_user("alice@example.com", allocation=5)
    dave = make_user("dave@example.com", allocation=5)
    bob = bring_in(kaleo, alice, "bob@example.com")
    later = kaleo.create_link(dave, 1)
    kaleo.accept(later, bob)  # a member joining through a second inviter's link
    db.session.commit()
    assert kaleo.invited_by(bob) == alice
    assert kaleo.invitees(dave) == []
    store = kaleo.store
    lineages.record_referral(store, bob.id, "bob@example.com", dave.id, "dave")
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(kaleo.Referral)) == 1


def test_lineage_reads_the_chain_and_the_tree_in_order(
    kaleo: Kaleo[User], ctx: None, statements: Statements
) -> None:
    alice = make_user("alice@example.com", allocation=5)
    bob = bring_in(kaleo, alice, "bob@example.com")
    carol = join_by_link(kaleo, alice, "carol@example.com")
    dave = bring_in(kaleo, bob, "dave@example.com")
    bring_in(kaleo, carol, "erin@example.com")
    bring_in(kaleo, dave, "frank@example.com")
    with statements:
        tree = kaleo.lineage(alice, depth=3)
    assert statements.count == 2  # one recursive query up, one down
    assert names(tree.subtree) == [
        ("bob@example.com", 1, 1),
        ("dave@example.com", 2, 1),
        ("frank@example.com", 3, 0),
        ("carol@example.com", 1, 1),
        ("erin@example.com", 2, 0),
    ]
    assert [node.via for node in tree.subtree if node.depth == 1] == ["invitation", "link"]
    assert tree.total_invitees == 2 and tree.ancestors == []
    shallow = kaleo.lineage(alice, depth=1)
    assert names(shallow.subtree) == [("bob@example.com", 1, 1), ("carol@example.com", 1, 1)]
    up = kaleo.lineage(dave, depth=3)
    assert [(n.label, n.inviter_label, n.depth) for n in up.ancestors] == [
        ("dave@example.com", "bob@example.com", 1),
        ("bob@example.com", "alice@example.com", 2),
    ]
    assert names(up.subtree) == [("frank@example.com", 1, 0)] and up.total_invitees == 1
    below = [
        bob.id,
        carol.id,
        dave.id,
        db.session.scalar(sa.select(User.id).filter_by(email="erin@example.com")),
    ]
    assert lineages.descendant_ids(kaleo.store, alice.id, 2) == below


def test_the_tree_stays_whole_after_a_deletion_in_the_middle(kaleo: Kaleo[User], ctx: None) -> None:
    alice = make_user("alice@example.com", allocation=5)
    bob = bring_in(kaleo, alice, "bob@example.com")
    carol = bring_in(kaleo, bob, "carol@example.com")
    dave = bring_in(kaleo, carol, "dave@example.com")
    delete_account(bob)
    tree = kaleo.lineage(alice, depth=5)
    assert [(n.label, n.user_id, n.depth) for n in tree.subtree] == [
        ("bob@example.com", None, 1),
        ("carol@example.com", carol.id, 2),
        ("dave@example.com", dave.id, 3),
    ]
    up = kaleo.lineage(dave, depth=0)
    assert [(n.inviter_label, n.inviter_id) for n in up.ancestors] == [
        ("carol@example.com", carol.id),
        ("bob@example.com", None),
        ("alice@example.com", alice.id),
    ]
    assert kaleo.invitees(alice) == []  # the deleted account is left out
    assert kaleo.invited_by(carol) is None
    assert set(lineages.descendant_ids(kaleo.store, alice.id, 3)) == {carol.id, dave.id}


def test_a_deep_chain_is_read_whole(kaleo: Kaleo[User], ctx: None, statements: Statements) -> None:
    """200 levels: each read is still one recursive query."""
    db.session.execute(sa.insert(User), [{"email": f"m{n}@example.com"} for n in range(201)])
    db.session.commit()
    ids: dict[str, int] = dict(db.session.execute(sa.select(User.email, User.id)).all())
    chain = [ids[f"m{n}@example.com"] for n in range(201)]
    for n in range(1, 201):
        lineages.record_referral(
            kaleo.store, chain[n], f"m{n}@example.com", chain[n - 1], f"m{n - 1}@example.com"
        )
    db.session.commit()
    root, last = db.session.get_one(User, chain[0]), db.session.get_one(User, chain[-1])
    with statements:
        down = kaleo.lineage(root, depth=1000)
        up = kaleo.lineage(last, depth=1)
        below = lineages.descendant_ids(kaleo.store, chain[0], 1000)
    assert statements.count == 5
    assert [n.user_id for n in down.subtree] == chain[1:]
    assert [n.depth for n in down.subtree] == list(range(1, 201))
    assert [n.inviter_id for n in up.ancestors] == chain[-2::-1]
    assert up.subtree == [] and up.total_invitees == 0
    assert below == chain[1:]
    assert lineages.descendant_ids(kaleo.store, chain[0], 3) == chain[1:4]


def test_the_tree_holds_the_first_invitees_of_each_node(
    kaleo: Kaleo[User], ctx: None, statements: Statements, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past FANOUT invitees a node's others are left out (oldest kept) and counted."""
    monkeypatch.setattr(subtree, "FANOUT", 2)
    alice = make_user("alice@example.com", allocation=10)
    bob = bring_in(kaleo, alice, "bob@example.com")
    bring_in(kaleo, alice, "carol@example.com")
    bring_in(kaleo, alice, "erin@example.com")
    for name in ("dave", "frank", "grace"):
        bring_in(kaleo, bob, f"{name}@example.com")
    with statements:
        tree = kaleo.lineage(alice, depth=2)
    assert statements.count == 2
    assert names(tree.subtree) == [
        ("bob@example.com", 1, 3),
        ("dave@example.com", 2, 0),
        ("frank@example.com", 2, 0),
        ("carol@example.com", 1, 0),
    ]
    assert [node.more for node in tree.subtree] == [1, 0, 0, 0]
    assert (tree.total_invitees, tree.more) == (3, 1)
    one = kaleo.lineage(alice, depth=1)  # the last level: its invitees are not read
    assert names(one.subtree) == [("bob@example.com", 1, 3), ("carol@example.com", 1, 0)]
    assert [node.more for node in one.subtree] == [0, 0]
    assert (one.total_invitees, one.more) == (3, 1)
    assert kaleo.lineage(alice, depth=0).total_invitees == 3
    assert kaleo.lineage(bob, depth=3).more == 1
