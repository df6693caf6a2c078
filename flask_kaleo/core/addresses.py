"""Email addresses: what may be invited, the one spelling that is stored and mailed,
the lenient key that the sending limits count by, and the strict key that says two
spellings are one mailbox.

:func:`canonical_address` is the one place that turns what was typed into the address:

- the domain goes through IDNA (UTS 46, nontransitional, as email-validator applies
  it), so ``BÜCHER.de``, ``bücher.de``, ``xn--bcher-kva.de`` and the fullwidth
  ``ｂüｃｈｅｒ.de`` are one domain, stored and mailed as its ASCII (punycode, lower-case)
  form: ``straße.de`` is mailed to ``xn--strae-oqa.de``, the domain that was validated,
  never to ``strasse.de``;
- the local part is kept as typed, in Unicode NFC (so NFC and NFD spellings are one
  address); one that is not plain ASCII is refused unless ``KALEO_SMTPUTF8`` says the
  mail relay can deliver it;
- the lenient key (:func:`address_key`, stored as ``email_key``) is the NFKC form of
  the local part, lower-cased (so fullwidth and compatibility forms, ligatures and
  ``Élodie``/``élodie`` are one key), ``@``, and the ASCII domain. It is what the
  daily sending limits and "one pending invitation per inviter and address" count
  by, so lookalikes of one address cannot flood its inbox. It is compared byte for
  byte by the database (a binary collation on MariaDB), so ``rene``/``rené``,
  ``noel``/``noël`` and ``strasse``/``straße`` stay apart. Lower-casing rather than
  full case folding is deliberate: case folding maps ``ß`` to ``ss`` and would merge
  ``straße`` with ``strasse``;
- the strict key (:func:`identity_key`) is the address as the mail relay sees it: the
  local part in NFC with only its ASCII letters lower-cased, ``@``, the ASCII domain.
  Whether an account's address is the invited one (``KALEO_REQUIRE_INVITED_EMAIL``,
  "joined independently") is decided by it: ``ｂｏｂ``, ``ﬁona`` or ``𝐛𝐨𝐛`` are other
  mailboxes than ``bob`` and ``fiona``, however alike they look.
"""

from __future__ import annotations

import functools
import typing as t
import unicodedata

from email_validator import EmailNotValidError
from email_validator import validate_email

from ..exceptions import InvalidEmail
from ..exceptions import MessageTooLong
from ..i18n import N_
from ..i18n import gettext
from ..i18n import ngettext

MAX_EMAIL_LENGTH = 254

NON_ASCII_LOCAL_PART = N_(
    "Use an address whose part before the @ is plain ASCII: this site's mail relay"
    " cannot deliver to it."
)


class Address(t.NamedTuple):
    """One invitable address."""

    email: str
    """What is stored and mailed: the local part as typed (NFC), ``@``, the ASCII domain."""
    key: str
    """The lenient key: :func:`local_part_key` of the local part, ``@``, the ASCII domain."""
    domain: str
    """The domain in Unicode (``bücher.de``), for finding members stored that way."""


def canonical_address(address: object, *, smtputf8: bool = False) -> Address:
    """The canonical form of the address typed, once it is a valid, deliverable one.

    Syntax only: there are no DNS look-ups, so this works offline and fast. Line breaks
    and other header tricks are not valid addresses, so they never reach a header. A
    local part that is not plain ASCII is refused unless ``smtputf8``.
    """
    address = address.strip() if isinstance(address, str) else ""
    if not address:
        raise InvalidEmail(gettext("Enter an email address."))
    if len(address) > MAX_EMAIL_LENGTH:
        raise InvalidEmail(gettext("That email address is too long."))
    try:
        valid = validate_email(address, check_deliverability=False)
    except EmailNotValidError as error:
        reason = str(error).rstrip(".")
        raise InvalidEmail(
            gettext("Enter a valid email address (%(reason)s).", reason=reason)
        ) from None
    local = unicodedata.normalize("NFC", valid.local_part)
    if not local.isascii() and not smtputf8:
        raise InvalidEmail(gettext(NON_ASCII_LOCAL_PART))
    domain = valid.ascii_domain.lower()
    email = f"{local}@{domain}"
    if len(email) > MAX_EMAIL_LENGTH:  # IDNA can make the domain longer
        raise InvalidEmail(gettext("That email address is too long."))
    return Address(email, f"{local_part_key(local)}@{domain}", valid.domain.lower())


def local_part_key(local: str) -> str:
    """The comparison form of a local part: NFKC, lower-cased, NFKC again."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", local).lower())


@functools.lru_cache(maxsize=1024)
def address_key(address: str) -> str:
    """The lenient key, under which lookalike spellings of an address count as one for
    the sending limits (never to say two addresses are one mailbox: see
    :func:`identity_key`).

    For any string (a user's stored address may not be a valid one): a valid address
    gets its canonical key, whatever its local part; anything else is compared as
    :func:`local_part_key` of the whole, trimmed. Remembered for the last 1,024
    strings: an inviter's own address is compared with each address they invite.
    """
    try:
        return canonical_address(address, smtputf8=True).key
    except InvalidEmail:
        return local_part_key(address.strip())


ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def identity_key(address: object) -> str | None:
    """The strict key: the address as the mail relay sees it, so two addresses with one
    strict key are one mailbox. NFC, the domain in ASCII (IDNA), and only ASCII letters
    lower-cased in the part before the ``@``; None for what is not a valid address."""
    try:
        email = canonical_address(address, smtputf8=True).email
    except InvalidEmail:
        return None
    local, domain = email.rsplit("@", 1)
    return f"{local.translate(ASCII_LOWER)}@{domain}"


def member_spellings(address: str | Address) -> list[str]:
    """The lower-case spellings under which a user table may hold ``address``: its key
    and the address itself lower-cased, each with the ASCII and the Unicode domain. The
    default member check compares ``lower(<email column>)`` with these. An
    :class:`Address` is used as it is; a string is made canonical first."""
    if isinstance(address, Address):
        canonical = address
    else:
        try:
            canonical = canonical_address(address, smtputf8=True)
        except InvalidEmail:
            return [address.strip().lower()]
    local, domain = canonical.email.rsplit("@", 1)
    locals_ = dict.fromkeys([canonical.key.rsplit("@", 1)[0], local.lower()])
    domains = dict.fromkeys([domain, canonical.domain])
    return [f"{part}@{name}" for part in locals_ for name in domains]


def clean_message(message: object, limit: int) -> str | None:
    """The personal message, trimmed, without control characters (a NUL cannot even be
    stored on PostgreSQL), or None when empty; refused when longer than ``limit``."""
    text = "".join(
        character
        for character in (message if isinstance(message, str) else "")
        if character in "\n\t" or unicodedata.category(character) != "Cc"
    ).strip()
    if len(text) > limit:
        raise MessageTooLong(
            ngettext(
                "Keep the message under %(num)d character.",
                "Keep the message under %(num)d characters.",
                limit,
            )
        )
    return text or None
