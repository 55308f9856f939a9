"""keep longer: a job's files are kept at least until jobs.keep_until

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-08 01:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import clipmill.jobs.models

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("keep_until", clipmill.jobs.models.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("keep_until")
