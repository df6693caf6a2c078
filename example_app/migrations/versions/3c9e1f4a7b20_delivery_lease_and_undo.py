"""delivery lease and undo of a resend

Two nullable columns of the invitation table: ``delivery_lease_until``, held by the
delivery that claimed an email while it may still be at the relay, and
``undo_sending``, the columns a resend or reminder changed, put back if its email
cannot go. Existing rows need no data step (NULL: nothing held, nothing to undo).

Revision ID: 3c9e1f4a7b20
Revises: c0a7e64b1e5d
Create Date: 2026-12-06 14:30:00.000000

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

# revision identifiers, used by Alembic.
revision = "3c9e1f4a7b20"
down_revision = "c0a7e64b1e5d"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("kaleo_join_invitation") as batch_op:
        batch_op.add_column(
            sa.Column(
                "delivery_lease_until",
                sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("undo_sending", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("kaleo_join_invitation") as batch_op:
        batch_op.drop_column("undo_sending")
        batch_op.drop_column("delivery_lease_until")
