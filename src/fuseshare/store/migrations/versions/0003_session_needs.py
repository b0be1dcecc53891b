"""session needs: what a car said it needs, kept across server restarts

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("charging_sessions") as batch:
        batch.add_column(sa.Column("energy_wanted_kwh", sa.Float(), nullable=True))
        batch.add_column(sa.Column("departure_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("ev_max_current_a", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("charging_sessions") as batch:
        batch.drop_column("ev_max_current_a")
        batch.drop_column("departure_at")
        batch.drop_column("energy_wanted_kwh")
