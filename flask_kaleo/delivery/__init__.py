"""How an email is written and leaves: rendering, transports and queue adapters."""
