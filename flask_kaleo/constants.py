"""Values every layer names: :data:`NEVER` and the type of a requested lifetime. A leaf
module: it imports nothing from flask-kaleo."""

from __future__ import annotations

import datetime as dt
import typing as t

NEVER: t.Final = "never"
"""``expires_in=NEVER``: the invitation never expires (``expires_at`` NULL); only for
members with the manage permission."""

ExpiresIn = dt.timedelta | t.Literal["never"] | None
"""What a caller may ask for: a lifetime, :data:`NEVER`, or None for the default."""
