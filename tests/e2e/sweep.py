"""What the page sweep (tests/e2e/test_every_page.py) checks on every page, and the data
that stresses the layout: the longest addresses, a link with a long domain, tokens in
every state kaleo's pages answer."""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing as t
from urllib.parse import urlsplit

if t.TYPE_CHECKING:
    from playwright.sync_api import Page

    from tests.e2e.live import LiveServer

PASSWORD = "sweep-password"
MEMBER = "a.member.with.a.rather.long.address.for.the.header@example.com"
STAFF = ("staff@example.com", "staff-password")
# 120 characters: a 64-character local part (the most an address may have) and a long
# domain, as the address of an invitation.
LONG_ADDRESS = (
    "an.invitation.to.the.longest.local.part.that.an.address.may.have"
    "@mail.an-organisation-with-a-rather-long-name.example.co"
)
LONG_DOMAIN = "members.of-an-organisation-with-a-rather-long-domain-name.example.org"
JOINERS = (
    f"someone.with.a.long.name.who.joined.through.the.link@{LONG_DOMAIN}",
    f"another.person.who.joined.through.the.same.link@{LONG_DOMAIN}",
)
assert len(LONG_ADDRESS) == 120


@dataclasses.dataclass(frozen=True)
class Data:
    """Paths into the stressing data: accept and join URLs in every state, and ids."""

    pending: str  # an invitation's accept URL, still pending (to LONG_ADDRESS)
    used: str  # accepted
    expired: str
    revoked: str
    replaced: str  # the accept URL a resend replaced
    link: str  # a shareable link's join URL, open (only LONG_DOMAIN)
    used_up: str  # a link whose every use is taken
    member_id: int
    revocable_id: int  # a pending invitation the revoke page asks about


def make_data(server: LiveServer) -> Data:
    """The member MEMBER's history, written through kaleo's own API on the live app."""
    import sqlalchemy as sa

    from example_app.demo import add_member
    from example_app.extensions import db
    from example_app.models import User
    from example_app.models import kaleo

    def path(url: str | None) -> str:
        assert url is not None
        return urlsplit(url).path

    def join(through: t.Any, email: str) -> None:
        kaleo.accept(through, add_member(email, PASSWORD, 2))
        db.session.commit()

    with server.app.test_request_context():
        member = add_member(MEMBER, PASSWORD, 60)
        revocable = kaleo.invite(member, LONG_ADDRESS)  # mailed: it is in the outbox
        pending = kaleo.invite(member, f"not.yet.{LONG_ADDRESS[8:]}", send=False)
        used = kaleo.invite(member, "joined.through.an.invitation@example.com", send=False)
        join(used, used.email)
        expired = kaleo.invite(member, "let.it.expire@example.com", send=False)
        model = kaleo.JoinInvitation
        past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)
        db.session.execute(sa.update(model).where(model.id == expired.id).values(expires_at=past))
        db.session.commit()
        revoked = kaleo.invite(member, "changed.my.mind@example.com", send=False)
        kaleo.revoke(revoked)
        replaced = kaleo.invite(member, "sent.twice@example.com", send=False)
        kaleo.resend(replaced)
        link = kaleo.create_link(member, 5, domain=LONG_DOMAIN)
        for email in JOINERS:
            join(link, email)
        used_up = kaleo.create_link(member, 1)
        join(used_up, "the.only.one@example.com")
        staff = db.session.scalars(sa.select(User).filter_by(email=STAFF[0])).one()
        kaleo.set_allocation(member, 60, by=staff)  # an entry in the audit log
        return Data(
            pending=path(pending.accept_url),
            used=path(used.accept_url),
            expired=path(expired.accept_url),
            revoked=path(revoked.accept_url),
            replaced=path(replaced.accept_url),
            link=path(link.url),
            used_up=path(used_up.url),
            member_id=member.id,
            revocable_id=revocable.id,
        )


# -- the checks -------------------------------------------------------------------------

OVERFLOW = """() => {
  const root = document.documentElement, width = root.clientWidth;
  if (root.scrollWidth <= width) return null;
  // Inside a box that scrolls or clips, an element sticks out of the box, not the page.
  const contained = (element) => {
    for (let up = element.parentElement; up && up !== document.body; up = up.parentElement) {
      if (getComputedStyle(up).overflowX !== 'visible') return true;
    }
    return false;
  };
  const name = (element) => {
    let text = element.tagName.toLowerCase();
    if (element.id) text += '#' + element.id;
    for (const c of element.classList) text += '.' + c;
    const words = (element.textContent || element.value || '').trim().replace(/\\s+/g, ' ');
    return text + (words ? ' "' + words.slice(0, 60) + '"' : '');
  };
  const out = [];
  const check = (box, element, what) => {
    const past = Math.max(box.right - width, -box.left);  // right to left, it is the left
    if (box.width > 0 && past > 0.5 && !contained(element)) {
      out.push({past: Math.round(past), width: Math.round(box.width), name: what});
    }
  };
  for (const element of document.body.querySelectorAll('*')) {
    check(element.getBoundingClientRect(), element, name(element));
  }
  // A word too long for its box (an address, a URL) sticks out of a box that fits.
  const texts = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let text = texts.nextNode(); text; text = texts.nextNode()) {
    const range = document.createRange();
    range.selectNodeContents(text);
    const parent = text.parentElement;
    check(range.getBoundingClientRect(), parent, 'the text of ' + name(parent));
  }
  out.sort((a, b) => b.width - a.width);
  return {scrollWidth: root.scrollWidth, clientWidth: width, culprits: out.slice(0, 4)};
}"""


def overflow(page: Page) -> str | None:
    """None when nothing scrolls sideways; else the page's width and the widest elements
    that pass the viewport's edge (the first is the one to look at)."""
    found = page.evaluate(OVERFLOW)
    if found is None:
        return None
    culprits = "; ".join(
        f"{c['name']} ({c['width']}px wide, {c['past']}px past the edge)" for c in found["culprits"]
    )
    return (
        f"{page.url} is {found['scrollWidth']}px wide in a {found['clientWidth']}px window: "
        f"{culprits or 'no element passes the edge'}"
    )


def nameless_buttons(page: Page) -> list[str]:
    """Every button (``button``, ``[role=button]``, ``input[type=submit]``...) without an
    accessible name, as the browser's accessibility tree computes it: their markup."""
    session = page.context.new_cdp_session(page)
    try:
        tree = session.send("Accessibility.getFullAXTree")
        found = []
        for node in tree["nodes"]:
            role = node.get("role", {}).get("value")
            name = str(node.get("name", {}).get("value", "")).strip()
            if role == "button" and not name and not node.get("ignored"):
                html = session.send("DOM.getOuterHTML", {"backendNodeId": node["backendDOMNodeId"]})
                found.append(f"{page.url}: {html['outerHTML'][:200]}")
        return found
    finally:
        session.detach()
