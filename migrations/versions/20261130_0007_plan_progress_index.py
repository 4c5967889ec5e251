"""plan progress: a partial index of the live firms by tier and county, the targets' columns included

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 14:00:00

GET /v1/plan/progress counts the firms with a recognised tier (or none given) by county; on
PostgreSQL the index includes every column its targets read, so the count is an index-only scan.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

INCLUDED = [
    'tier_valid_until',
    'tier_valid_until_given',
    'listing_stage',
    'rd_institution',
    'university_partner',
    'invention_patents',
    'trademarks',
    'digital_level',
    'fills_tech_gap',
    'synthetic',
]


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('enterprise', schema=None) as batch_op:
        batch_op.create_index(
            'ix_enterprise_progress',
            ['tier', 'county'],
            unique=False,
            postgresql_include=INCLUDED,
            postgresql_where=sa.text('deleted_at IS NULL'),
            sqlite_where=sa.text('deleted_at IS NULL'),
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('enterprise', schema=None) as batch_op:
        batch_op.drop_index('ix_enterprise_progress')
