"""Tokens: 256 random bits for an accept URL (or a link's join URL), and only their
digest for the database."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_BYTES = 32
"""Random bytes in an accept token (256 bits)."""

MAX_TOKEN_LENGTH = 128
"""Longer path segments are nobody's token: they are refused before any hashing."""


def new_token() -> tuple[str, str]:
    """A fresh accept token and the digest stored in its place."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, token_digest(token)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
