"""64-bit invitation counters

flask-kaleo's stat counters (``invites_allocated``, ``invites_sent``,
``invites_accepted``) become BIGINT: an unlimited member's shareable links reserve up
to a million uses each, which a 32-bit ``invites_sent`` overflows after 2,148 of them.
SQLite's INTEGER is already 64-bit; batch mode rebuilds its table so that the declared
type matches the models (the named CHECK constraints come back with it).

Revision ID: c0a7e64b1e5d
Revises: 75e1d50e8525
Create Date: 2026-12-02 09:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c0a7e64b1e5d"
down_revision = "75e1d50e8525"
branch_labels = None
depends_on = None

COUNTERS = ("invites_allocated", "invites_sent", "invites_accepted")


def upgrade():
    with op.batch_alter_table("kaleo_invitation_stat") as batch_op:
        for column in COUNTERS:
            batch_op.alter_column(
                column, existing_type=sa.Integer(), type_=sa.BigInteger(), existing_nullable=False
            )


def downgrade():
    with op.batch_alter_table("kaleo_invitation_stat") as batch_op:
        for column in COUNTERS:
            batch_op.alter_column(
                column, existing_type=sa.BigInteger(), type_=sa.Integer(), existing_nullable=False
            )
