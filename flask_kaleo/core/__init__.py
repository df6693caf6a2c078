"""The domain: invitations spent, accepted, resent and revoked, with their counters
and limits, in the database. No request, session or ``g`` here."""
