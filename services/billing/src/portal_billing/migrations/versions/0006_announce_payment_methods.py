"""BIL-4: announce the payment methods stored before billing published `PaymentMethodAdded`.

Service subscriptions checks a card or PayPal order against its copy of the partner's methods, filled from
that event; without this, every method stored before the upgrade would refuse every order. The events go
through the outbox like any other, in the migration's own transaction.

Revision ID: 0006
"""

import json

import sqlalchemy as sa
from alembic import op

from portal_shared.events.base import Envelope
from portal_shared.events.billing import PaymentMethodAdded

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    connection = op.get_bind()
    stored = connection.execute(sa.text(
        "SELECT id, partner_id, type, last4, exp_month, exp_year, created_at FROM payment_methods ORDER BY created_at"
    )).mappings().all()
    for method in stored:
        event = PaymentMethodAdded(
            payment_method_id=method["id"], partner_id=method["partner_id"], type=method["type"],
            last4=method["last4"], exp_month=method["exp_month"], exp_year=method["exp_year"],
            added_at=method["created_at"],
        )
        envelope = Envelope(type=event.TYPE, version=event.VERSION, occurred_at=method["created_at"],
                            partner_id=method["partner_id"], payload=event.model_dump(mode="json"))
        connection.execute(
            sa.text("INSERT INTO outbox (event_id, topic, key, type, envelope) "
                    "VALUES (:event_id, :topic, :key, :type, CAST(:envelope AS jsonb))"),
            dict(event_id=envelope.event_id, topic=event.TOPIC, key=envelope.key, type=event.TYPE,
                 envelope=json.dumps(envelope.model_dump(mode="json"))),
        )


def downgrade() -> None:
    """Announcements already sent cannot be taken back; subscriptions' copy stays correct."""
