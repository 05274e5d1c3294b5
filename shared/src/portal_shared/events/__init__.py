"""Versioned event contracts and the envelope every event travels in.

One topic per producing service (`portal.<service>`), its dead-letter topic
`portal.<service>.dlq`; the Kafka key is the customer id (else the partner id),
so one customer's events stay in order on one partition.
"""

from portal_shared.events.base import Envelope, Event, contract_for, registered_events
from portal_shared.events.topics import ALL_TOPICS, dlq_topic

__all__ = ["ALL_TOPICS", "Envelope", "Event", "contract_for", "dlq_topic", "registered_events"]

from portal_shared.events import billing as billing  # noqa: E402  (importing registers the contracts)
from portal_shared.events import customers as customers  # noqa: E402
from portal_shared.events import subscriptions as subscriptions  # noqa: E402
