"""registry change marker: an index on enterprise.updated_at

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 23:20:00

The console's measure page keeps each measure's count of matching firms until the registry
changes; the latest updated_at (every store and delete sets it) says whether it has, and with
this index that is one index lookup, not a scan.
"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('enterprise', schema=None) as batch_op:
        batch_op.create_index('ix_enterprise_updated_at', ['updated_at'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('enterprise', schema=None) as batch_op:
        batch_op.drop_index('ix_enterprise_updated_at')
