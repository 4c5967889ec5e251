"""enterprise: quality_award_level, the level of the government quality award held

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 14:10:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


# revision identifiers, used by Alembic.
revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('enterprise', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('quality_award_level', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True)
        )
    # the typed columns hold the profile's facts (Profile.facts()): a firm that holds no award
    # holds none at any level; a holder's level is unknown until its profile gives it
    op.execute(
        "UPDATE enterprise SET quality_award_level = 'none' "
        "WHERE quality_award = false AND deleted_at IS NULL"
    )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('enterprise', schema=None) as batch_op:
        batch_op.drop_column('quality_award_level')
