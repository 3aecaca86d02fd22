"""jobs, channel state, reviewed public replies, reply topics

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "channel_state",
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "key", name=op.f("pk_channel_state")),
    )
    op.create_table(
        "jobs",
        sa.Column("id", ID, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("conversation_id", ID, nullable=True),
        sa.Column("ticket_id", ID, nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=128), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"], ["conversations.id"], name=op.f("fk_jobs_conversation_id_conversations")
        ),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_jobs_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_jobs_dedupe_key")),
    )
    op.create_index("ix_jobs_due", "jobs", ["status", "due_at"], unique=False)
    op.create_index(op.f("ix_jobs_conversation_id"), "jobs", ["conversation_id"], unique=False)
    op.create_index(op.f("ix_jobs_ticket_id"), "jobs", ["ticket_id"], unique=False)
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("topic", sa.String(length=128), nullable=True))
    with op.batch_alter_table("agents") as batch:
        batch.add_column(sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "conversation_reads",
        sa.Column("agent_id", ID, nullable=False),
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("last_message_id", sa.BigInteger(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_conversation_reads_agent_id_agents")
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_reads_conversation_id_conversations"),
        ),
        sa.PrimaryKeyConstraint("agent_id", "conversation_id", name=op.f("pk_conversation_reads")),
    )
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("reviewed_by_id", ID, nullable=True))
        batch.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key(
            op.f("fk_outbox_reviewed_by_id_agents"), "agents", ["reviewed_by_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint(op.f("fk_outbox_reviewed_by_id_agents"), type_="foreignkey")
        batch.drop_column("reviewed_at")
        batch.drop_column("reviewed_by_id")
    op.drop_table("conversation_reads")
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("locked_until")
        batch.drop_column("failed_logins")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("topic")
    op.drop_index(op.f("ix_jobs_ticket_id"), table_name="jobs")
    op.drop_index(op.f("ix_jobs_conversation_id"), table_name="jobs")
    op.drop_index("ix_jobs_due", table_name="jobs")
    op.drop_table("jobs")
    op.drop_table("channel_state")
