"""resend: resent_at and replaced_token_digest on kaleo_join_invitation

flask-kaleo's resend records when an invitation was last sent again (``resent_at``,
for the rate limit) and the digest of the link it replaced (``replaced_token_digest``,
so that old link shows a clear 410 page instead of a 404). Both are nullable, so
existing rows need no value.

Revision ID: 3c1f0a9d2b7e
Revises: 75e1d50e8525
Create Date: 2026-11-25 10:40:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "3c1f0a9d2b7e"
down_revision = "75e1d50e8525"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "kaleo_join_invitation", sa.Column("resent_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "kaleo_join_invitation",
        sa.Column("replaced_token_digest", sa.String(length=64), nullable=True),
    )
    op.create_index(
        op.f("ix_kaleo_join_invitation_replaced_token_digest"),
        "kaleo_join_invitation",
        ["replaced_token_digest"],
        unique=False,
    )


def downgrade():
    op.drop_index(
        op.f("ix_kaleo_join_invitation_replaced_token_digest"), table_name="kaleo_join_invitation"
    )
    op.drop_column("kaleo_join_invitation", "replaced_token_digest")
    op.drop_column("kaleo_join_invitation", "resent_at")
