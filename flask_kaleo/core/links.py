"""Shareable links: one link several people can join through, paid for up front.

A link for N people reserves N from its creator's allocation in the conditional UPDATE
that spends invitations (:meth:`~flask_kaleo.core.counters.Counters.spend`), so links and
invitations draw on one allowance and never overspend it. Each signup through it takes
one use, inside the signup's transaction, with a conditional UPDATE that the database
backs with ``CHECK (uses <= max_uses)``, and records who joined in a row of its own.

Revoking the link, or its expiry (settled by :func:`settle_expired`), gives the unused
remainder back. ``given_back`` records that it was settled, and how many it returned:
the check ``given_back IS NULL OR given_back = max_uses - uses`` means that once
settled no use can be taken, and nothing can be given back twice.
"""

from __future__ import annotations

import typing as t

import sqlalchemy as sa

from .. import signals
from ..config import MAX_AMOUNT
from ..config import current_config
from ..config import is_whole_number
from ..constants import ExpiresIn
from ..delivery.render import join_url
from ..exceptions import InvalidEmail
from ..exceptions import InvalidLinkOption
from ..exceptions import InvitationExpired
from ..exceptions import InvitationRevoked
from ..exceptions import InvitingNotAllowed
from ..exceptions import NotEnoughInvitations
from ..i18n import gettext
from ..i18n import ngettext
from ..models import InvitationLinkMixin
from ..models import LinkUseMixin
from ..models import expired
from ..models import rowcount
from ..models import utcnow
from . import audit
from .addresses import canonical_address
from .expiry import choose_expiry
from .hooks import Hooks
from .hooks import signed_in
from .store import Store
from .tokens import MAX_TOKEN_LENGTH
from .tokens import new_token
from .tokens import token_digest

U = t.TypeVar("U")


# -- checking what was asked --------------------------------------------------------


def check_uses(uses: object) -> int:
    """A link's number of uses: a whole number from 1 to :data:`MAX_AMOUNT`."""
    if not is_whole_number(uses) or not 1 <= uses <= MAX_AMOUNT:
        limit = f"{MAX_AMOUNT:,}"
        message = gettext(
            "The number of people must be a whole number from 1 to %(limit)s.", limit=limit
        )
        raise InvalidLinkOption(message, "uses")
    return uses


def check_domain(domain: object) -> str | None:
    """The domain a link is restricted to, as addresses store it (ASCII, lower-case);
    None for no restriction."""
    if domain is None or (isinstance(domain, str) and not domain.strip()):
        return None
    text = domain.strip().lstrip("@") if isinstance(domain, str) else ""
    if "@" in text:
        text = ""
    try:
        return canonical_address(f"x@{text}", smtputf8=True).email.rpartition("@")[2]
    except InvalidEmail:
        message = gettext(
            "%(domain)s is not a valid domain, such as example.com.", domain=repr(str(domain)[:100])
        )
        raise InvalidLinkOption(message, "domain") from None


def in_domain(address: str, domain: str) -> bool:
    """Whether ``address`` is one valid address at ``domain`` exactly (not a subdomain
    of it; and not a list, a quoted part or a comment ending in ``@domain``)."""
    try:
        valid = canonical_address(address, smtputf8=True)
    except InvalidEmail:
        return False
    return valid.key.rpartition("@")[2] == domain


# -- creating, joining, revoking, settling ------------------------------------------


def create_link(
    store: Store[U],
    hooks: Hooks[U],
    from_user: U,
    uses: int,
    expires_in: ExpiresIn,
    domain: str | None,
) -> InvitationLinkMixin:
    """Reserve ``uses`` of ``from_user``'s invitations for a new link, and commit.

    Links send no email, so the daily sending limits do not count them; the allowance
    does. The creator's expired links are settled first, so what they gave back can
    pay for this one.
    """
    uses = check_uses(uses)
    domain = check_domain(domain)
    if not hooks.has_invite_permission(from_user):
        raise InvitingNotAllowed(gettext("You are not allowed to send invitations."))
    inviter_id = store.user_id(from_user)
    now = utcnow()
    may_manage = hooks.has_manage_permission(from_user)
    expires_at = choose_expiry(current_config(), may_manage, expires_in, now)
    settle_expired(store, inviter_id)
    token, digest = new_token()
    url = join_url(token)  # before spending: a missing site URL refuses, spending nothing
    with store.transaction(keep_loaded=True) as session:
        default = store.default_allocation()
        remaining = store.counters.spend(session, inviter_id, default, amount=uses)
        if remaining is None:
            left = store.counters.remaining(session, inviter_id, default)
            raise NotEnoughInvitations(_not_enough(left, uses))
        link: InvitationLinkMixin = store.InvitationLink(
            token_digest=digest,
            from_user_id=inviter_id,
            inviter_label=store.inviter_label(from_user),
            max_uses=uses,
            uses=0,
            domain=domain,
            created_at=now,
            expires_at=expires_at,
        )
        session.add(link)
        session.flush()
    link.token = token
    link.url = url
    link.inviter_remaining = remaining
    link.joiners = []
    return link


def _not_enough(left: int, uses: int) -> str:
    if left == 0:  # then uses may be 1: no sentence about "1 people"
        return gettext("You have no invitations left.")
    return ngettext(
        "You have %(num)d invitation left: not enough for a link for %(uses)d people.",
        "You have %(num)d invitations left: not enough for a link for %(uses)d people.",
        left,
        uses=uses,
    )


def revoke_link(
    store: Store[U], link: InvitationLinkMixin, *, by: object = None
) -> InvitationLinkMixin:
    """Withdraw ``link`` and give its unused uses back, in one transaction; commits.

    A link that expired and was already settled, or was revoked before, raises an
    :class:`~flask_kaleo.InvitationNotPending` (it has nothing left to give back).
    With ``by`` (staff, or what acted), the audit log records it in the same
    transaction.
    """
    model = store.InvitationLink
    with store.transaction() as session:
        result = session.execute(
            sa.update(model)
            .where(model.id == link.id, model.revoked_at.is_(None), model.given_back.is_(None))
            .values(revoked_at=utcnow(), given_back=model.max_uses - model.uses)
            .execution_options(synchronize_session=False)
        )
        if rowcount(result) != 1:
            link.reread(session)
            if link.revoked_at is not None:
                raise InvitationRevoked(gettext("This link has already been withdrawn."))
            raise InvitationExpired(
                gettext("This link has expired; its unused uses were already given back.")
            )
        given_back = _give_back(store, link.id)
        if by is not None:
            creator = store.get_user(link.from_user_id)
            audit.record(
                store,
                session,
                "revoke_link",
                by=by,
                target=creator,
                target_label=None if creator is not None else link.inviter_label,
                link_id=link.id,
                detail={"given_back": given_back},
            )
    store.session.refresh(link)
    signals.send(signals.link_revoked, link=link, inviter=store.get_user(link.from_user_id))
    return link


def settle_expired(store: Store[U], user_id: object = None) -> int:
    """Give back the unused uses of every expired, unsettled link (or one creator's);
    returns how many uses went back.

    One transaction per link, each locking the link and then its creator's stat row (as
    a revoke does), so it never waits in a circle with a revoke or a signup.
    """
    model = store.InvitationLink
    now = utcnow()
    statement = sa.select(model.id).where(
        model.given_back.is_(None), model.revoked_at.is_(None), expired(model.expires_at, now)
    )
    if user_id is not None:
        statement = statement.where(model.from_user_id == user_id)
    total = 0
    for link_id in list(store.session.scalars(statement.order_by(model.id))):
        with store.transaction() as session:
            result = session.execute(
                sa.update(model)
                .where(
                    model.id == link_id,
                    model.given_back.is_(None),
                    model.revoked_at.is_(None),
                    expired(model.expires_at, now),
                )
                .values(given_back=model.max_uses - model.uses)
                .execution_options(synchronize_session=False)
            )
            if rowcount(result) == 1:
                total += _give_back(store, link_id)
    return total


def _give_back(store: Store[U], link_id: int) -> int:
    """Return what the just-settled link ``link_id`` recorded as ``given_back``."""
    model = store.InvitationLink
    row = store.session.execute(
        sa.select(model.from_user_id, model.given_back).where(model.id == link_id)
    ).one()
    store.counters.give_back(store.session, row.from_user_id, amount=int(row.given_back))
    return int(row.given_back) if row.from_user_id is not None else 0


# -- reading ------------------------------------------------------------------------


def link_by_token(store: Store[U], token: str) -> InvitationLinkMixin | None:
    """The link whose token is ``token``, in any state (None for a token longer than
    any, without hashing it)."""
    if len(token) > MAX_TOKEN_LENGTH:
        return None
    model = store.InvitationLink
    statement = sa.select(model).where(model.token_digest == token_digest(token))
    return store.session.scalars(statement).first()


def sent_links(store: Store[U], user: U) -> list[InvitationLinkMixin]:
    """``user``'s links, oldest first, each with its ``joiners``: two queries."""
    if not signed_in(user):
        return []
    model = store.InvitationLink
    links: list[InvitationLinkMixin] = list(
        store.session.scalars(
            sa.select(model)
            .where(model.from_user_id == store.user_id(user))
            .order_by(model.created_at, model.id)
        )
    )
    joined: dict[int, list[LinkUseMixin]] = {link.id: [] for link in links}
    if links:
        use = store.LinkUse
        for row in store.session.scalars(
            sa.select(use).where(use.link_id.in_(joined)).order_by(use.joined_at, use.id)
        ):
            joined[row.link_id].append(row)
    for link in links:
        link.joiners = joined[link.id]
    return links
