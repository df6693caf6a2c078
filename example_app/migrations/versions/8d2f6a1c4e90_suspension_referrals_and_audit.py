"""suspension, referrals and the audit log

The staff side of flask-kaleo: two nullable columns of the stat table (a member's
inviting suspended, and why), the referral table (who brought whom in, filled here
from the invitations already accepted and the shareable links already used) and the
audit table of staff actions.

Revision ID: 8d2f6a1c4e90
Revises: 3c9e1f4a7b20
Create Date: 2026-12-06 19:00:00.000000

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

# revision identifiers, used by Alembic.
revision = "8d2f6a1c4e90"
down_revision = "3c9e1f4a7b20"
branch_labels = None
depends_on = None


def utc_datetime():
    return sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade():
    with op.batch_alter_table("kaleo_invitation_stat") as batch_op:
        batch_op.add_column(sa.Column("inviting_suspended_at", utc_datetime(), nullable=True))
        batch_op.add_column(sa.Column("suspension_reason", sa.Text(), nullable=True))
        batch_op.create_index("ix_kaleo_invitation_stat_sent", ["invites_sent", "user_id"])
    with op.batch_alter_table("kaleo_join_invitation") as batch_op:
        batch_op.create_index("ix_kaleo_join_invitation_sent", ["sent_at", "id"])
        batch_op.create_index("ix_kaleo_join_invitation_status_sent", ["status", "sent_at", "id"])
        batch_op.create_index("ix_kaleo_join_invitation_delivered", ["delivered_at", "link_only"])
    # The pages of the sending and link states: partial indexes where the database has
    # them, full ones leading to the same rows on MariaDB.
    if op.get_bind().dialect.name in ("postgresql", "sqlite"):
        unsent = sa.text("status = 'sent' AND delivered_at IS NULL")
        link_only = sa.text("link_only")
        op.create_index(
            "ix_kaleo_join_invitation_unsent",
            "kaleo_join_invitation",
            ["sent_at", "id"],
            postgresql_where=unsent,
            sqlite_where=unsent,
        )
        op.create_index(
            "ix_kaleo_join_invitation_link_only",
            "kaleo_join_invitation",
            ["sent_at", "id"],
            postgresql_where=link_only,
            sqlite_where=link_only,
        )
    else:
        op.create_index(
            "ix_kaleo_join_invitation_status_unsent",
            "kaleo_join_invitation",
            ["status", "delivered_at", "sent_at", "id"],
        )
        op.create_index(
            "ix_kaleo_join_invitation_link_only_sent",
            "kaleo_join_invitation",
            ["link_only", "sent_at", "id"],
        )

    op.create_table(
        "kaleo_referral",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invitee_label", sa.String(length=254), nullable=False),
        sa.Column("inviter_label", sa.String(length=254), nullable=False),
        sa.Column("joined_at", utc_datetime(), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=True),
        sa.Column("link_id", sa.Integer(), nullable=True),
        sa.Column("invitee_id", sa.Integer(), nullable=True),
        sa.Column("inviter_id", sa.Integer(), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["invitee_id"], ["user.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["inviter_id"], ["user.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["parent_id"], ["kaleo_referral.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("invitee_id", name="uq_kaleo_referral_invitee"),
    )
    with op.batch_alter_table("kaleo_referral") as batch_op:
        batch_op.create_index("ix_kaleo_referral_inviter", ["inviter_id", "joined_at", "id"])
        batch_op.create_index("ix_kaleo_referral_parent", ["parent_id", "joined_at", "id"])
        batch_op.create_index("ix_kaleo_referral_joined", ["joined_at", "invitation_id"])

    op.create_table(
        "kaleo_audit_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", utc_datetime(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("actor_label", sa.String(length=254), nullable=False),
        sa.Column("target_label", sa.String(length=254), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=True),
        sa.Column("link_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["user.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["target_id"], ["user.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("kaleo_audit_entry") as batch_op:
        batch_op.create_index("ix_kaleo_audit_entry_target", ["target_id", "id"])
        batch_op.create_index("ix_kaleo_audit_entry_actor", ["actor_id", "id"])
        batch_op.create_index("ix_kaleo_audit_entry_action", ["action", "id"])

    backfill_referrals()


def backfill_referrals():
    """One edge per member who accepted an invitation (joined then: its ``sent_at``,
    the nearest time recorded) or joined through a link, then each edge's parent."""
    op.execute(
        """
        INSERT INTO kaleo_referral
            (invitee_id, inviter_id, invitee_label, inviter_label, joined_at, invitation_id)
        SELECT i.to_user_id, i.from_user_id, i.email, i.inviter_label, i.sent_at, i.id
        FROM kaleo_join_invitation i
        WHERE i.status = 'accepted' AND i.to_user_id IS NOT NULL
          AND i.id = (SELECT MIN(j.id) FROM kaleo_join_invitation j
                      WHERE j.status = 'accepted' AND j.to_user_id = i.to_user_id)
        """
    )
    op.execute(
        """
        INSERT INTO kaleo_referral
            (invitee_id, inviter_id, invitee_label, inviter_label, joined_at, link_id)
        SELECT u.user_id, l.from_user_id, u.email, l.inviter_label, u.joined_at, l.id
        FROM kaleo_link_use u JOIN kaleo_invitation_link l ON l.id = u.link_id
        WHERE u.user_id IS NOT NULL
          AND u.id = (SELECT MIN(v.id) FROM kaleo_link_use v WHERE v.user_id = u.user_id)
          AND NOT EXISTS (SELECT 1 FROM kaleo_join_invitation i
                          WHERE i.status = 'accepted' AND i.to_user_id = u.user_id)
        """
    )
    # The derived table lets MariaDB read the table it updates.
    op.execute(
        """
        UPDATE kaleo_referral SET parent_id = (
            SELECT p.id FROM (SELECT id, invitee_id FROM kaleo_referral) p
            WHERE p.invitee_id = kaleo_referral.inviter_id)
        """
    )


def downgrade():
    # Dropping a table drops its indexes; MariaDB refuses to drop first an index that a
    # foreign key needs.
    op.drop_table("kaleo_audit_entry")
    op.drop_table("kaleo_referral")
    partial = op.get_bind().dialect.name in ("postgresql", "sqlite")
    with op.batch_alter_table("kaleo_join_invitation") as batch_op:
        batch_op.drop_index(f"ix_kaleo_join_invitation_link_only{'' if partial else '_sent'}")
        batch_op.drop_index(f"ix_kaleo_join_invitation_{'' if partial else 'status_'}unsent")
        batch_op.drop_index("ix_kaleo_join_invitation_delivered")
        batch_op.drop_index("ix_kaleo_join_invitation_status_sent")
        batch_op.drop_index("ix_kaleo_join_invitation_sent")
    with op.batch_alter_table("kaleo_invitation_stat") as batch_op:
        batch_op.drop_index("ix_kaleo_invitation_stat_sent")
        batch_op.drop_column("suspension_reason")
        batch_op.drop_column("inviting_suspended_at")
