"""user display names

The example's users get a display name, which the invitation emails show instead of
the inviter's address ("Alice Martin has invited you"). Existing users get an empty
name: their emails keep naming them by address.

Revision ID: 5b8e2d7c1a43
Revises: 8d2f6a1c4e90
Create Date: 2026-12-06 21:40:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "5b8e2d7c1a43"
down_revision = "8d2f6a1c4e90"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user") as batch_op:
        batch_op.add_column(
            sa.Column("name", sa.String(length=100), nullable=False, server_default="")
        )


def downgrade():
    with op.batch_alter_table("user") as batch_op:
        batch_op.drop_column("name")
