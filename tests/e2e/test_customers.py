"""SPEC.md section 1 (CUS-1 … CUS-14) end to end: real services, real broker, only the public API.

Events of services that do not publish yet (orders, subscriptions, invoices) are published here on
their topics with their shared contracts, exactly as those services will.
"""

import csv
import io
import re
import uuid
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest

from portal_shared.events.billing import InvoiceOverdue, InvoicePaid
from portal_shared.events.subscriptions import OrderLine, OrderPlaced, SubscriptionCreated, SubscriptionSnapshot
from portal_shared.events.topics import CUSTOMERS
from portal_shared.money import Money
from portal_stack.testing import customer_body, eventually

pytestmark = pytest.mark.e2e


def _token(url: str) -> str:
    return re.search(r"/(?:invitations|relationship-requests)/([^/]+)$", url).group(1)


def _invitation_token(tap, customer_id: str, event_type: str = "customer.created") -> str:
    envelope = tap.wait_for(CUSTOMERS, event_type, lambda p: p["customer_id"] == customer_id)
    return _token(envelope["payload"]["invitation"]["accept_url"])


def _accepted_customer(gateway, partner, tap, **overrides) -> dict:
    customer = partner.post("/v1/customers", json=customer_body(**overrides)).json()
    token = _invitation_token(tap, customer["id"])
    accepted = gateway.http.post(f"/v1/invitations/{token}/accept", json={"admin_name": "Ana Admin"})
    assert accepted.status_code == 200, accepted.text
    return customer


def _problem(response: httpx.Response, status: int, rule: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    if rule:
        assert body["type"].endswith("/" + rule), body
    return body


def _order(customer: dict, partner_id: str, placed_at, **extra) -> OrderPlaced:
    price = Money.of("10.00", "EUR")
    return OrderPlaced(
        order_id=uuid.uuid4(), number=f"O-{uuid.uuid4().int % 10**8:08d}", customer_id=uuid.UUID(customer["id"]),
        partner_id=uuid.UUID(partner_id), payment_method="postpaid",
        lines=[OrderLine(offer_id="ide-pro", offer_name="IDE Pro", kind="new", quantity=1, term="P1Y",
                         billing_frequency="annual", start_date=placed_at.date(), end_date=placed_at.date() + timedelta(days=365),
                         unit_price=price, amount=price)],
        total=price, placed_at=placed_at, **extra,
    )


def _subscription(customer: dict, partner_id: str, *, quantity: int, term_start, term_end, status="active") -> SubscriptionCreated:
    return SubscriptionCreated(
        subscription=SubscriptionSnapshot(
            subscription_id=uuid.uuid4(), customer_id=uuid.UUID(customer["id"]), partner_id=uuid.UUID(partner_id),
            offer_id="ide-pro", offer_name="IDE Pro", quantity=quantity, status=status, term="P1Y",
            billing_frequency="annual", term_start=term_start, term_end=term_end, auto_renew=True,
        )
    )


def _filtered(partner, name: str) -> set[str]:
    items = partner.get("/v1/customers", params={"filter": name, "limit": 500}).json()["items"]
    return {c["id"] for c in items}


def _wait_has_products(partner, customer: dict) -> None:
    eventually(lambda: customer["id"] not in _filtered(partner, "no_products"), what="the order recorded by customers")


# CUS-1 ---------------------------------------------------------------------------------------------------------------

def test_cus1_every_field_is_required_and_named(partner):
    body = _problem(partner.post("/v1/customers", json={}), 422)
    assert {"name", "segment", "type", "country", "address", "city", "postal_code", "contact"} <= {
        e["field"] for e in body["errors"]
    }
    bad_type = _problem(partner.post("/v1/customers", json=customer_body(type="solo")), 422)
    assert [e["field"] for e in bad_type["errors"]] == ["type"]
    unknown = _problem(partner.post("/v1/customers", json=customer_body(nickname="x")), 422)
    assert [e["field"] for e in unknown["errors"]] == ["nickname"]


def test_cus1_non_ascii_name_with_its_ascii_rendering_is_accepted(partner):
    created = partner.post("/v1/customers", json=customer_body(name="Müller & Söhne GmbH", name_ascii="Mueller & Soehne GmbH"))
    assert created.status_code == 201, created.text
    assert created.json()["name_ascii"] == "Mueller & Soehne GmbH"


# CUS-2 ---------------------------------------------------------------------------------------------------------------

def test_cus2_invitation_accepted_once_then_no_reminder(gateway, partner, tap):
    customer = partner.post("/v1/customers", json=customer_body()).json()
    assert customer["invitation"]["status"] == "pending"
    token = _invitation_token(tap, customer["id"])
    accepted = gateway.http.post(f"/v1/invitations/{token}/accept", json={"admin_name": "Ana Admin"})
    assert accepted.status_code == 200, accepted.text
    details = partner.get(f"/v1/customers/{customer['id']}").json()
    assert details["invitation"]["status"] == "accepted"
    assert details["contract_owner"] == {"name": "Ana Admin", "email": customer["contact"]["email"]}
    _problem(gateway.http.post(f"/v1/invitations/{token}/accept", json={"admin_name": "Again"}), 409, "cus-2")
    _problem(partner.post(f"/v1/customers/{customer['id']}/invitation/reminders", json={}), 409, "cus-2")


def test_cus2_reminder_to_another_email_replaces_the_link(gateway, partner, tap):
    customer = partner.post("/v1/customers", json=customer_body()).json()
    first_token = _invitation_token(tap, customer["id"])
    reminded = partner.post(f"/v1/customers/{customer['id']}/invitation/reminders", json={"email": "owner@example.org"})
    assert reminded.status_code == 201, reminded.text
    assert reminded.json()["email"] == "owner@example.org"
    envelope = tap.wait_for(CUSTOMERS, "invitation.reminded", lambda p: p["customer_id"] == customer["id"])
    assert envelope["payload"]["invitation"]["email"] == "owner@example.org"
    _problem(gateway.http.post(f"/v1/invitations/{first_token}/accept", json={"admin_name": "Old"}), 404)
    new_token = _token(envelope["payload"]["invitation"]["accept_url"])
    assert gateway.http.post(f"/v1/invitations/{new_token}/accept", json={"admin_name": "Owner"}).status_code == 200
    details = partner.get(f"/v1/customers/{customer['id']}").json()
    assert details["contract_owner"]["email"] == "owner@example.org"
    assert details["invitation"]["reminders"] == 1


# CUS-3 ---------------------------------------------------------------------------------------------------------------

def test_cus3_every_customer_gets_its_own_number(partner):
    numbers = [partner.post("/v1/customers", json=customer_body()).json()["number"] for _ in range(3)]
    assert len(set(numbers)) == 3
    assert all(re.fullmatch(r"C-\d{8}", n) for n in numbers)


# CUS-4 ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("segment", "months", "status"),
    [("commercial", 36, 201), ("commercial", 37, 422), ("commercial", 12, 422), ("education", 48, 201),
     ("government", 49, 422)],
)
def test_cus4_extended_term_limits_by_segment(partner, segment, months, status):
    response = partner.post("/v1/customers", json=customer_body(segment=segment, extended_term_months=months))
    assert response.status_code == status, response.text
    if status == 422:
        assert response.json()["type"].endswith("/cus-4")
        assert response.json()["errors"][0]["field"] == "extended_term_months"


def test_cus4_chosen_anniversary_is_kept_and_a_first_order_does_not_change_it(gateway, partner, tap):
    customer = partner.post("/v1/customers", json=customer_body(anniversary_date="2031-03-15")).json()
    tap.publish(_order(customer, partner.id, gateway.now()), partner_id=partner.id, customer_id=customer["id"])
    _wait_has_products(partner, customer)
    assert partner.get(f"/v1/customers/{customer['id']}").json()["anniversary_date"] == "2031-03-15"


def test_cus4_anniversary_is_one_year_after_the_first_order(gateway, partner, tap):
    customer = partner.post("/v1/customers", json=customer_body()).json()
    assert customer["anniversary_date"] is None
    placed = gateway.now()
    tap.publish(_order(customer, partner.id, placed), partner_id=partner.id, customer_id=customer["id"])
    expected = placed.date().replace(year=placed.year + 1).isoformat()
    eventually(lambda: partner.get(f"/v1/customers/{customer['id']}").json()["anniversary_date"] == expected,
               what="anniversary set from the first order")


def test_cus4_a_first_purchase_authorization_sets_the_anniversary(gateway, partner):
    customer = partner.post("/v1/customers", json=customer_body()).json()
    today = gateway.now().date()
    created = partner.post(f"/v1/customers/{customer['id']}/purchase-authorizations",
                           json={"due_date": (today + timedelta(days=30)).isoformat(), "items": [{"offer_id": "ide-pro", "quantity": 2}]})
    assert created.status_code == 201, created.text
    anniversary = partner.get(f"/v1/customers/{customer['id']}").json()["anniversary_date"]
    assert anniversary == today.replace(year=today.year + 1).isoformat()


# CUS-5, CUS-6, CUS-9 -----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def distributor_and_reseller(gateway):
    distributor = gateway.create_partner(kind="distributor", locale="es")
    reseller = gateway.create_partner(kind="reseller")
    linked = gateway.http.post(f"/v1/partners/{reseller.id}/links", headers=gateway.operator,
                               json={"distributor_id": distributor.id})
    assert linked.status_code == 201, linked.text
    return distributor, reseller


def test_cus5_relationship_request_with_a_reseller_grants_both_delegated_admin(gateway, distributor_and_reseller):
    distributor, reseller = distributor_and_reseller
    customer = distributor.post("/v1/customers", json=customer_body()).json()
    _problem(distributor.get(f"/v1/customers/{customer['id']}/license-report"), 409, "cus-9")
    request = distributor.post(f"/v1/customers/{customer['id']}/relationship-requests", json={"with_reseller_id": reseller.id})
    assert request.status_code == 201, request.text
    draft = request.json()
    assert draft["url"] in draft["email_body"]
    assert customer["name"] in draft["email_subject"]
    assert "solicita" in draft["email_subject"]
    assert reseller.get(f"/v1/customers/{customer['id']}").status_code == 404

    accepted = gateway.http.post(f"/v1/relationship-requests/{_token(draft['url'])}/accept")
    assert accepted.status_code == 200, accepted.text
    assert reseller.get(f"/v1/customers/{customer['id']}").json()["managed"] is True
    assert distributor.get(f"/v1/customers/{customer['id']}").json()["managed"] is True
    report = distributor.get(f"/v1/customers/{customer['id']}/license-report")
    assert report.status_code == 200 and report.json()["subscriptions"] == []
    _problem(gateway.http.post(f"/v1/relationship-requests/{_token(draft['url'])}/accept"), 409, "cus-5")


def test_cus5_only_a_linked_reseller_can_be_invited_along(gateway, distributor_and_reseller):
    distributor, _ = distributor_and_reseller
    stranger = gateway.create_partner(kind="reseller")
    customer = distributor.post("/v1/customers", json=customer_body()).json()
    body = _problem(distributor.post(f"/v1/customers/{customer['id']}/relationship-requests",
                                     json={"with_reseller_id": stranger.id}), 422, "cus-5")
    assert body["errors"][0]["field"] == "with_reseller_id"


def test_cus6_removing_the_relationship_drops_the_customer_from_the_list(gateway, distributor_and_reseller, tap):
    distributor, reseller = distributor_and_reseller
    customer = distributor.post("/v1/customers", json=customer_body()).json()
    draft = distributor.post(f"/v1/customers/{customer['id']}/relationship-requests", json={"with_reseller_id": reseller.id}).json()
    gateway.http.post(f"/v1/relationship-requests/{_token(draft['url'])}/accept")
    assert distributor.delete(f"/v1/customers/{customer['id']}/relationship").status_code == 204
    assert distributor.get(f"/v1/customers/{customer['id']}").status_code == 404
    assert customer["id"] not in {c["id"] for c in distributor.get("/v1/customers", params={"limit": 500}).json()["items"]}
    assert reseller.get(f"/v1/customers/{customer['id']}").status_code == 200
    tap.wait_for(CUSTOMERS, "relationship.removed", lambda p: p["customer_id"] == customer["id"])


def test_cus9_license_report_lists_the_subscriptions(gateway, distributor_and_reseller, tap):
    distributor, _ = distributor_and_reseller
    customer = distributor.post("/v1/customers", json=customer_body()).json()
    draft = distributor.post(f"/v1/customers/{customer['id']}/relationship-requests", json={}).json()
    gateway.http.post(f"/v1/relationship-requests/{_token(draft['url'])}/accept")
    today = gateway.now().date()
    for quantity in (4, 7):
        tap.publish(_subscription(customer, distributor.id, quantity=quantity, term_start=today,
                                  term_end=today + timedelta(days=365)), partner_id=distributor.id, customer_id=customer["id"])
    report = eventually(
        lambda: (r := distributor.get(f"/v1/customers/{customer['id']}/license-report").json())["active_subscriptions"] == 2 and r,
        what="subscriptions in the report",
    )
    assert report["total_licenses"] == 11
    details = distributor.get(f"/v1/customers/{customer['id']}").json()
    assert details["licenses_in_term"] == 11
    assert details["vip_select"] is True


# CUS-7 ---------------------------------------------------------------------------------------------------------------

def _issue_code(new_partner, customer, email):
    return new_partner.post("/v1/reseller-changes", json={"customer_number": customer["number"], "admin_email": email})


def _code(tap, code_id: str) -> str:
    return tap.wait_for(CUSTOMERS, "reseller_change.code_issued", lambda p: p["code_id"] == code_id)["payload"]["code"]


def test_cus7_reseller_change_moves_the_customer_and_the_old_partner_loses_it(gateway, partner, tap):
    customer = _accepted_customer(gateway, partner, tap)
    new_partner = gateway.create_partner()
    assert new_partner.get(f"/v1/customers/{customer['id']}").status_code == 404
    _problem(_issue_code(new_partner, customer, "not-an-admin@example.com"), 404)
    issued = _issue_code(new_partner, customer, customer["contact"]["email"])
    assert issued.status_code == 201, issued.text
    assert issued.json()["sent_to_admins"] == 1
    event = tap.wait_for(CUSTOMERS, "reseller_change.code_issued", lambda p: p["code_id"] == issued.json()["id"])
    assert event["payload"]["admin_emails"] == [customer["contact"]["email"]]

    redeemed = gateway.http.post(f"/v1/reseller-changes/{event['payload']['code']}/redeem")
    assert redeemed.status_code == 200, redeemed.text
    assert partner.get(f"/v1/customers/{customer['id']}").status_code == 404
    assert new_partner.get(f"/v1/customers/{customer['id']}").json()["number"] == customer["number"]
    moved = tap.wait_for(CUSTOMERS, "customer.transferred", lambda p: p["customer_id"] == customer["id"])
    assert (moved["payload"]["from_partner_id"], moved["payload"]["to_partner_id"]) == (partner.id, new_partner.id)
    _problem(gateway.http.post(f"/v1/reseller-changes/{event['payload']['code']}/redeem"), 409, "cus-7")


def test_cus7_a_code_expires_after_72_hours(gateway, partner, tap):
    customer = _accepted_customer(gateway, partner, tap)
    new_partner = gateway.create_partner()
    code = _code(tap, _issue_code(new_partner, customer, customer["contact"]["email"]).json()["id"])
    assert gateway.move_clock(advance="PT72H").status_code == 200
    body = _problem(gateway.http.post(f"/v1/reseller-changes/{code}/redeem"), 409, "cus-7")
    assert "expired" in body["detail"]
    fresh = _code(tap, _issue_code(new_partner, customer, customer["contact"]["email"]).json()["id"])
    assert gateway.move_clock(advance="PT71H").status_code == 200
    assert gateway.http.post(f"/v1/reseller-changes/{fresh}/redeem").status_code == 200


def test_cus7_at_most_five_codes_per_customer_per_day(gateway, partner, tap):
    customer = _accepted_customer(gateway, partner, tap)
    new_partner = gateway.create_partner()
    now = gateway.now()
    morning = (now + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    assert gateway.move_clock(now=morning.isoformat()).status_code == 200
    for _ in range(5):
        assert _issue_code(new_partner, customer, customer["contact"]["email"]).status_code == 201
    _problem(_issue_code(new_partner, customer, customer["contact"]["email"]), 409, "cus-7")
    assert gateway.move_clock(advance="P1D").status_code == 200
    assert _issue_code(new_partner, customer, customer["contact"]["email"]).status_code == 201


# CUS-8 ---------------------------------------------------------------------------------------------------------------

def test_cus8_a_customer_without_products_can_be_deleted(partner, tap):
    customer = partner.post("/v1/customers", json=customer_body()).json()
    assert partner.delete(f"/v1/customers/{customer['id']}").status_code == 204
    _problem(partner.get(f"/v1/customers/{customer['id']}"), 404)
    tap.wait_for(CUSTOMERS, "customer.deleted", lambda p: p["customer_id"] == customer["id"])


def test_cus8_deletion_refused_with_an_order_or_a_pending_purchase_authorization(gateway, partner, tap):
    with_order = partner.post("/v1/customers", json=customer_body()).json()
    tap.publish(_order(with_order, partner.id, gateway.now()), partner_id=partner.id, customer_id=with_order["id"])
    _wait_has_products(partner, with_order)
    body = _problem(partner.delete(f"/v1/customers/{with_order['id']}"), 409, "cus-8")
    assert "order" in body["detail"]

    with_pa = partner.post("/v1/customers", json=customer_body()).json()
    due = (gateway.now().date() + timedelta(days=10)).isoformat()
    pa = partner.post(f"/v1/customers/{with_pa['id']}/purchase-authorizations",
                      json={"due_date": due, "items": [{"offer_id": "ide-pro", "quantity": 1}]}).json()
    _problem(partner.delete(f"/v1/customers/{with_pa['id']}"), 409, "cus-8")
    assert partner.delete(f"/v1/customers/{with_pa['id']}/purchase-authorizations/{pa['id']}").status_code == 200
    assert partner.delete(f"/v1/customers/{with_pa['id']}").status_code == 204


# CUS-10 --------------------------------------------------------------------------------------------------------------

def test_cus10_filters_follow_purchase_authorizations_invoices_and_renewals(gateway, tap):
    partner = gateway.create_partner()
    today = gateway.now().date()

    def new_customer():
        return partner.post("/v1/customers", json=customer_body()).json()

    nothing, pending, late, unpaid, soon, later = (new_customer() for _ in range(6))
    for customer, due in ((pending, today + timedelta(days=20)), (late, today + timedelta(days=1))):
        assert partner.post(f"/v1/customers/{customer['id']}/purchase-authorizations",
                            json={"due_date": due.isoformat(), "items": [{"offer_id": "ide-pro", "quantity": 1}]}).status_code == 201
    invoice = InvoiceOverdue(invoice_id=uuid.uuid4(), number="INV-00000001", customer_id=uuid.UUID(unpaid["id"]),
                             partner_id=uuid.UUID(partner.id), due_date=today, amount_due=Money.of(Decimal("99.90"), "EUR"))
    tap.publish(invoice, partner_id=partner.id, customer_id=unpaid["id"])
    tap.publish(_subscription(soon, partner.id, quantity=1, term_start=today - timedelta(days=340),
                              term_end=today + timedelta(days=25)), partner_id=partner.id, customer_id=soon["id"])
    tap.publish(_subscription(later, partner.id, quantity=1, term_start=today - timedelta(days=325),
                              term_end=today + timedelta(days=40)), partner_id=partner.id, customer_id=later["id"])

    eventually(lambda: _filtered(partner, "upcoming_renewals") == {soon["id"], later["id"]}, what="upcoming renewals")
    assert _filtered(partner, "ready_for_renewal") == {soon["id"]}
    assert _filtered(partner, "no_products") == {nothing["id"], unpaid["id"]}
    assert _filtered(partner, "pending_requests") == {pending["id"], late["id"]}
    eventually(lambda: _filtered(partner, "overdue") == {unpaid["id"]}, what="overdue invoice")
    assert len(_filtered(partner, "all")) == 6

    assert gateway.move_clock(advance="P2D").status_code == 200
    assert _filtered(partner, "overdue") == {unpaid["id"], late["id"]}
    assert _filtered(partner, "pending_requests") == {pending["id"]}
    pa = partner.get(f"/v1/customers/{late['id']}/purchase-authorizations").json()["items"][0]
    assert pa["status"] == "overdue"

    paid = InvoicePaid(invoice_id=invoice.invoice_id, number=invoice.number, customer_id=invoice.customer_id,
                       partner_id=invoice.partner_id, paid_at=gateway.now())
    tap.publish(paid, partner_id=partner.id, customer_id=unpaid["id"])
    eventually(lambda: _filtered(partner, "overdue") == {late["id"]}, what="paid invoice clears overdue")


def test_cus10_managed_by_me_needs_a_user_and_lists_their_customers(gateway):
    partner = gateway.create_partner()
    token = gateway.http.post("/v1/auth/token", data={"username": partner.admin_email, "password": partner.admin_password})
    user_headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    me = token.json()
    claims_user = eventually(lambda: gateway.http.get("/v1/partners/me", headers=user_headers).status_code == 200 and me)
    assert claims_user
    users = gateway.http.post("/v1/partners/me/users", headers=user_headers,
                              json={"name": "Sales", "email": f"sales.{uuid.uuid4().hex[:8]}@partner.example",
                                    "password": "a-long-password-123", "roles": ["sales_agent"]})
    assert users.status_code == 201, users.text
    sales_token = gateway.http.post("/v1/auth/token", data={"username": users.json()["email"],
                                                             "password": "a-long-password-123"}).json()["access_token"]
    sales = {"Authorization": f"Bearer {sales_token}"}
    mine = gateway.http.post("/v1/customers", headers=sales,
                             json=customer_body(managed_by_user_id=users.json()["id"])).json()
    gateway.http.post("/v1/customers", headers=sales, json=customer_body())
    listed = gateway.http.get("/v1/customers", headers=sales, params={"managed_by": "me"}).json()["items"]
    assert [c["id"] for c in listed] == [mine["id"]]
    _problem(partner.get("/v1/customers", params={"managed_by": "me"}), 422)


# CUS-11 --------------------------------------------------------------------------------------------------------------

def test_cus11_search_by_number_email_and_name(gateway):
    partner = gateway.create_partner()
    shared_email = f"it.{uuid.uuid4().hex[:8]}@shared.example"
    first = partner.post("/v1/customers", json=customer_body(name="Zephyr Analytics SL",
                                                             contact={"name": "A", "email": shared_email})).json()
    second = partner.post("/v1/customers", json=customer_body(name="Blue Zephyrine SA",
                                                              contact={"name": "B", "email": shared_email.upper()})).json()
    partner.post("/v1/customers", json=customer_body(name="Other Corp"))

    def ids(**params):
        return {c["id"] for c in partner.get("/v1/customers", params=params).json()["items"]}

    assert ids(number=first["number"]) == {first["id"]}
    assert ids(email=shared_email) == {first["id"], second["id"]}
    assert ids(q="zeph") == {first["id"], second["id"]}
    assert ids(q="ZEPHYR ANALYTICS") == {first["id"]}
    assert ids(q="analytics") == {first["id"]}
    assert ids(q="nothing-like-this") == set()
    names = [c["name"] for c in partner.get("/v1/customers", params={"sort": "name"}).json()["items"]]
    assert names == sorted(names)


def test_cus11_csv_export_of_the_filtered_list(gateway, tap):
    partner = gateway.create_partner()
    created = [partner.post("/v1/customers", json=customer_body()).json() for _ in range(3)]
    response = partner.get("/v1/customers/export.csv", params={"filter": "no_products"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {r["number"] for r in rows} == {c["number"] for c in created}
    assert {r["contact_email"] for r in rows} == {c["contact"]["email"] for c in created}
    other = gateway.create_partner()
    assert list(csv.DictReader(io.StringIO(other.get("/v1/customers/export.csv").text))) == []


# CUS-12 --------------------------------------------------------------------------------------------------------------

def test_cus12_details_show_the_customer_page(partner):
    customer = partner.post("/v1/customers", json=customer_body(segment="education", extended_term_months=40)).json()
    details = partner.get(f"/v1/customers/{customer['id']}").json()
    for field in ("number", "contract_owner", "address", "city", "postal_code", "invitation", "type", "anniversary_date",
                  "segment", "managed_by_user_id", "vip_select", "three_year_commitment", "extended_term_months"):
        assert field in details
    assert details["vip_select"] is False
    assert details["extended_term_months"] == 40
    refused = partner.post("/v1/customers", json=customer_body(extended_term_months=24, three_year_commitment=True))
    _problem(refused, 422, "cus-12")


# CUS-13 --------------------------------------------------------------------------------------------------------------

def test_cus13_purchase_authorization_is_cancellable_only_while_pending(gateway, partner, tap):
    customer = partner.post("/v1/customers", json=customer_body()).json()
    due = (gateway.now().date() + timedelta(days=15)).isoformat()
    path = f"/v1/customers/{customer['id']}/purchase-authorizations"
    _problem(partner.post(path, json={"due_date": "2000-01-01", "items": [{"offer_id": "x", "quantity": 1}]}), 422, "cus-13")
    first = partner.post(path, json={"due_date": due, "items": [{"offer_id": "ide-pro", "quantity": 3}]}).json()
    assert first["status"] == "pending"
    assert partner.delete(f"{path}/{first['id']}").json()["status"] == "cancelled"
    _problem(partner.delete(f"{path}/{first['id']}"), 409, "cus-13")

    second = partner.post(path, json={"due_date": due, "items": [{"offer_id": "ide-pro", "quantity": 3}]}).json()
    order = _order(customer, partner.id, gateway.now(), purchase_authorization_id=uuid.UUID(second["id"]))
    tap.publish(order, partner_id=partner.id, customer_id=customer["id"])
    eventually(lambda: {p["id"]: p["status"] for p in partner.get(path).json()["items"]}[second["id"]] == "ordered",
               what="purchase authorization ordered")
    _problem(partner.delete(f"{path}/{second['id']}"), 409, "cus-13")


# CUS-14 --------------------------------------------------------------------------------------------------------------

def test_cus14_same_admin_cannot_own_two_customers_with_the_same_name(gateway, partner, tap):
    name = f"Twin Org {uuid.uuid4().hex[:6]}"
    email = f"twin.{uuid.uuid4().hex[:6]}@example.com"
    contact = {"name": "Twin", "email": email}
    first = partner.post("/v1/customers", json=customer_body(name=name, contact=contact)).json()
    second = partner.post("/v1/customers", json=customer_body(name=name, contact=contact)).json()
    other_name = partner.post("/v1/customers", json=customer_body(name=name + " II", contact=contact)).json()
    accept = {"admin_name": "Twin"}
    assert gateway.http.post(f"/v1/invitations/{_invitation_token(tap, first['id'])}/accept", json=accept).status_code == 200
    _problem(gateway.http.post(f"/v1/invitations/{_invitation_token(tap, second['id'])}/accept", json=accept), 409, "cus-14")
    assert gateway.http.post(f"/v1/invitations/{_invitation_token(tap, other_name['id'])}/accept", json=accept).status_code == 200


# Tenancy -------------------------------------------------------------------------------------------------------------

def test_tenant_isolation_on_every_customer_route(gateway, partner, other_partner, tap):
    customer = partner.post("/v1/customers", json=customer_body()).json()
    cid = customer["id"]
    pa = partner.post(f"/v1/customers/{cid}/purchase-authorizations",
                      json={"due_date": (gateway.now().date() + timedelta(days=5)).isoformat(),
                            "items": [{"offer_id": "ide-pro", "quantity": 1}]}).json()
    attempts = [
        other_partner.get(f"/v1/customers/{cid}"),
        other_partner.delete(f"/v1/customers/{cid}"),
        other_partner.post(f"/v1/customers/{cid}/invitation/reminders", json={}),
        other_partner.post(f"/v1/customers/{cid}/relationship-requests", json={}),
        other_partner.delete(f"/v1/customers/{cid}/relationship"),
        other_partner.get(f"/v1/customers/{cid}/license-report"),
        other_partner.get(f"/v1/customers/{cid}/purchase-authorizations"),
        other_partner.post(f"/v1/customers/{cid}/purchase-authorizations",
                           json={"due_date": "2099-01-01", "items": [{"offer_id": "x", "quantity": 1}]}),
        other_partner.delete(f"/v1/customers/{cid}/purchase-authorizations/{pa['id']}"),
    ]
    for response in attempts:
        _problem(response, 404)
    for params in ({"number": customer["number"]}, {"email": customer["contact"]["email"]}, {"q": customer["name"]},
                   {"filter": "pending_requests"}):
        assert other_partner.get("/v1/customers", params=params).json()["items"] == []
        assert customer["number"] not in other_partner.get("/v1/customers/export.csv", params=params).text
    assert partner.get(f"/v1/customers/{cid}").status_code == 200
