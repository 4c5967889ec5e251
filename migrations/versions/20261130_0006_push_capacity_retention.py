"""push capacity and retention: pending counts and caps per subscription, the feed's watermark

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 13:50:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


# revision identifiers, used by Alembic.
revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('push_subscription', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pending_deliveries', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('max_pending', sa.Integer(), nullable=False, server_default='10000'))
        batch_op.add_column(sa.Column('events_not_queued', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('not_queued_first', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('not_queued_last', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('not_queued_since', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('queued_since_not_queued', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index('ix_push_subscription_caller', ['created_by', 'state'], unique=False)
    # what existing subscriptions have pending now: the counts start exact
    op.execute(
        "UPDATE push_subscription SET pending_deliveries = (SELECT count(*) FROM push_delivery "
        "WHERE push_delivery.subscription_id = push_subscription.id "
        "AND push_delivery.state = 'pending')"
    )
    retention = op.create_table('push_retention',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pruned_through', sa.BigInteger(), nullable=False),
    sa.Column('pruned_before', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('pruned_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('events_pruned', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.bulk_insert(retention, [{'id': 1, 'pruned_through': 0, 'events_pruned': 0}])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('push_retention')
    with op.batch_alter_table('push_subscription', schema=None) as batch_op:
        batch_op.drop_index('ix_push_subscription_caller')
        batch_op.drop_column('queued_since_not_queued')
        batch_op.drop_column('not_queued_since')
        batch_op.drop_column('not_queued_last')
        batch_op.drop_column('not_queued_first')
        batch_op.drop_column('events_not_queued')
        batch_op.drop_column('max_pending')
        batch_op.drop_column('pending_deliveries')
