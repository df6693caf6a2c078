"""The invitees' tree of a member's console page, nested for the template."""

from __future__ import annotations

import dataclasses
import typing as t


class TreeNode(t.Protocol):
    """What nesting needs of a node of :meth:`Kaleo.lineage`'s subtree."""

    @property
    def depth(self) -> int: ...


N = t.TypeVar("N", bound=TreeNode)


@dataclasses.dataclass
class Branch(t.Generic[N]):
    """A node and the branches of those it brought in."""

    node: N
    children: list[Branch[N]] = dataclasses.field(default_factory=list)


def nest(subtree: t.Iterable[N]) -> list[Branch[N]]:
    """The subtree (in tree order: each node after its parent, at its ``depth``) as
    nested branches: the read stays one flat query, and the page nests lists."""
    roots: list[Branch[N]] = []
    path: list[Branch[N]] = []
    for node in subtree:
        branch = Branch(node)
        del path[node.depth - 1 :]
        (path[-1].children if path else roots).append(branch)
        path.append(branch)
    return roots
