"""An index for a member's counts by state

The sent list's summary line counts a member's invitations by state (pending,
accepted, expired...) with a GROUP BY that reads this index alone, however long the
member's history.

Revision ID: 5b8e2d7c9a13
Revises: 5b8e2d7c1a43
Create Date: 2026-12-06 22:00:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "5b8e2d7c9a13"
down_revision = "5b8e2d7c1a43"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_kaleo_join_invitation_from_user_status",
        "kaleo_join_invitation",
        ["from_user_id", "status", "expires_at"],
    )


def downgrade():
    op.drop_index("ix_kaleo_join_invitation_from_user_status", table_name="kaleo_join_invitation")
