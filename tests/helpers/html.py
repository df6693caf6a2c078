"""HTML read as a small tree (``parse``), to find elements by tag, class and attributes
instead of matching markup as text."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from dataclasses import field
from html.parser import HTMLParser

VOID = {"input", "br", "meta", "link", "img", "hr", "wbr"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    parent: Node | None = None
    children: list[Node] = field(default_factory=list)
    text: str = ""

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def walk(self) -> t.Iterator[Node]:
        for child in self.children:
            yield child
            yield from child.walk()

    def find(self, tag: str = "", cls: str = "", **attrs: str) -> list[Node]:
        return [
            node
            for node in self.walk()
            if (not tag or node.tag == tag)
            and (not cls or cls in node.classes)
            and all(node.attrs.get(name) == value for name, value in attrs.items())
        ]

    def one(self, tag: str = "", cls: str = "", **attrs: str) -> Node:
        found = self.find(tag, cls, **attrs)
        assert len(found) == 1, (tag, cls, attrs, found)
        return found[0]

    def all_text(self) -> str:
        return self.text + "".join(child.all_text() for child in self.children)


class TreeBuilder(HTMLParser):
    """A small DOM from html.parser, strict about nesting (mismatched tags fail)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {})
        self.current = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {name: value or "" for name, value in attrs}, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_endtag(self, tag: str) -> None:
        assert self.current.tag == tag, f"</{tag}> closes <{self.current.tag}>"
        assert self.current.parent is not None
        self.current = self.current.parent

    def handle_data(self, data: str) -> None:
        self.current.text += data


def parse(markup: str) -> Node:
    builder = TreeBuilder()
    builder.feed(markup)
    builder.close()
    assert builder.current is builder.root, "unclosed elements"
    return builder.root
