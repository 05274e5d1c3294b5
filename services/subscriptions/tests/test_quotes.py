"""COM-3/NOT-1: which quotes may be sent, and the quote as printed and sent (no database)."""

import io
import uuid
from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from pypdf import PdfReader

from portal_shared.problems import RuleViolation
from portal_shared.quote_pdf import quote_pdf

from portal_subscriptions.domain.orders import check_quote_open
from portal_subscriptions.service.quotes import quote_snapshot

TODAY = date(2026, 3, 2)


@pytest.mark.parametrize(("status", "valid_until", "reason"), [
    ("ordered", date(2026, 4, 1), "already turned into an order"),
    ("cancelled", date(2026, 4, 1), "cancelled"),
    ("open", date(2026, 3, 1), "expired on 2026-03-01"),
])
def test_com3_only_an_open_quote_within_its_validity_is_sent_or_ordered(status, valid_until, reason):
    with pytest.raises(RuleViolation) as refused:
        check_quote_open(status, valid_until, TODAY)
    assert refused.value.rule == "COM-3" and reason in refused.value.detail


def test_com3_an_open_quote_on_its_last_day_is_open():
    check_quote_open("open", TODAY, TODAY)


def stored_quote(**changes) -> SimpleNamespace:
    """A quotes row as service subscriptions stores it (JSON lines and parties, money as strings)."""
    line = {"offer_id": "forge-ide", "offer_name": "Forge IDE", "kind": "new", "trial": False, "quantity": 5,
            "term": "P1Y", "billing_frequency": "annual", "start_date": "2026-03-02", "end_date": "2026-09-18",
            "custom_end_date": True, "perpetual_fallback": False, "unit_price": "249.00", "amount": "686.61",
            "base_offer_id": None, "base_subscription_id": None}
    end_user = {"customer_id": str(uuid.uuid4()), "number": "C-00000042", "name": "Hola SA",
                "contact": {"name": None, "email": "ana@hola.es"}, "address": "C 1", "city": "Madrid",
                "postal_code": "28001", "country": "ES"}
    return SimpleNamespace(**({
        "id": uuid.uuid4(), "number": "Q-00000042", "status": "open", "currency": "EUR", "total": "686.61",
        "lines": [line], "billing_address": {"name": "Distribuidora Demo", "country": "ES"}, "end_user": end_user,
        "valid_until": date(2026, 4, 1), "source_direct_quote": None, "created_at": datetime(2026, 3, 2, 9, tzinfo=UTC),
    } | changes))


def test_not1_the_snapshot_is_the_stored_quote_as_printed():
    snapshot = quote_snapshot(stored_quote(), TODAY)
    assert (snapshot.number, snapshot.status, str(snapshot.total.amount)) == ("Q-00000042", "open", "686.61")
    assert (snapshot.end_user.email, snapshot.end_user.customer_number, snapshot.end_user.contact_name) == (
        "ana@hola.es", "C-00000042", None)
    assert snapshot.billing_address.name == "Distribuidora Demo" and snapshot.billing_address.address is None
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(quote_pdf(snapshot))).pages)
    for datum in ("Quote Q-00000042", "Distribuidora Demo", "Hola SA", "28001 Madrid", "686.61 EUR",
                  "Forge IDE: co-termed to 2026-09-18; perpetual fallback not included."):
        assert datum in text, datum


def test_com3_a_quote_past_its_validity_prints_as_expired():
    assert quote_snapshot(stored_quote(valid_until=date(2026, 3, 1)), TODAY).status == "expired"
