"""Integrations with other extensions: Flask-Security-Too and Alembic."""
