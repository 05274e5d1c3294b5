"""Valid events of the messages that several of notifications' test modules build."""

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from portal_shared.events.customers import RelationshipRequested
from portal_shared.events.subscriptions import QuoteLine, QuoteParty, QuoteSent, QuoteSnapshot
from portal_shared.money import Money

CUSTOMER_ID, PARTNER_ID = uuid.uuid4(), uuid.uuid4()


def eur(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="EUR")


def quote_sent(locale: str = "es", to: str = "ana@hola.es", **ids: uuid.UUID) -> QuoteSent:
    """An open quote of two lines (one co-termed) for Hola SA, sent to `to`."""
    line = dict(term="P1Y", billing_frequency="annual", start_date=date(2026, 3, 2), custom_end_date=False,
                perpetual_fallback=True)
    quote = QuoteSnapshot(
        number="Q-00000042", status="open", created_at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        valid_until=date(2026, 4, 1), currency="EUR",
        lines=[
            QuoteLine(offer_id="o365-e3", offer_name="Office E3", quantity=10, end_date=date(2027, 3, 1),
                      unit_price=eur("150.00"), amount=eur("1500.00"), **line),
            QuoteLine(offer_id="forge-ide", offer_name="Forge IDE", quantity=5, end_date=date(2026, 9, 18),
                      unit_price=eur("249.00"), amount=eur("686.61"),
                      **(line | {"custom_end_date": True, "perpetual_fallback": False})),
        ],
        total=eur("2186.61"),
        billing_address=QuoteParty(name="Distribuidora Demo", address="Calle 1", city="Madrid", postal_code="28001",
                                   country="ES"),
        end_user=QuoteParty(name="Hola SA", address="C 1", city="Madrid", postal_code="28001", country="ES",
                            customer_number="C-00000042", contact_name="Ana", email="ana@hola.es"),
    )
    return QuoteSent(quote_id=uuid.uuid4(), customer_id=ids.get("customer_id", CUSTOMER_ID),
                     partner_id=ids.get("partner_id", PARTNER_ID), to=to, locale=locale, quote=quote,
                     sent_at=datetime(2026, 3, 2, 10, 0, tzinfo=UTC))


def relationship_requested(locale: str = "en", admin_email: str | None = "admin@hola.es", **ids: uuid.UUID
                           ) -> RelationshipRequested:
    """The draft service customers wrote, in the partner's language (CUS-5)."""
    url = "https://gw/v1/relationship-requests/tok/accept"
    return RelationshipRequested(
        request_id=uuid.uuid4(), customer_id=ids.get("customer_id", CUSTOMER_ID),
        partner_id=ids.get("partner_id", PARTNER_ID), url=url,
        email_subject="Distribuidora Demo requests a reseller relationship with Hola SA",
        email_body=f"Hello,\n\nDistribuidora Demo would like to become a reseller for Hola SA.\n\n{url}\n",
        locale=locale, admin_email=admin_email,
    )
