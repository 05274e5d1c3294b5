"""SPEC.md section 4 (SUB-*) end to end, driven by the test clock (never by sleeping)."""

from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

import pytest

from portal_shared.events.topics import SUBSCRIPTIONS
from portal_stack.testing import customer_body, eventually

pytestmark = pytest.mark.e2e


def _problem(response, status, rule=None):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    if rule:
        assert response.json()["type"].endswith("/" + rule), response.json()
    return response.json()


@pytest.fixture(scope="module")
def seller(gateway, catalog):
    partner = gateway.create_partner()
    eventually(lambda: partner.get("/v1/catalog/offers").status_code == 200)
    return partner


def _buy(partner, offer_id="forge-ide", quantity=10, term="P1Y", frequency="annual", **extra) -> dict:
    customer = partner.post("/v1/customers", json=customer_body()).json()
    eventually(lambda: partner.get(f"/v1/customers/{customer['id']}/cart").status_code == 200)
    added = partner.post(f"/v1/customers/{customer['id']}/cart/items",
                         json={"offer_id": offer_id, "quantity": quantity, "term": term, "billing_frequency": frequency, **extra})
    assert added.status_code == 201, added.text
    order = partner.post(f"/v1/customers/{customer['id']}/cart/checkout", json={"payment": partner.payment()}).json()
    [subscription] = partner.get(f"/v1/customers/{customer['id']}/subscriptions").json()["items"]
    assert subscription["order_id"] == order["id"]
    return subscription


def _patch(partner, subscription, **body):
    return partner.http.patch(f"/v1/subscriptions/{subscription['id']}", json=body)


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


def test_sub2_sub3_add_on_day_3_reduce_only_the_recent_batch_with_a_prorated_refund(gateway, seller, tap):
    subscription = _buy(seller)
    start, end = date.fromisoformat(subscription["term_start"]), date.fromisoformat(subscription["term_end"])
    gateway.move_clock(advance="P3D")
    increased = _patch(seller, subscription, quantity=15)
    assert increased.status_code == 200 and increased.json()["quantity"] == 15
    charge = tap.wait_for(SUBSCRIPTIONS, "subscription.changed",
                          lambda p: p["subscription"]["subscription_id"] == subscription["id"] and p["change"] == "quantity_increased")
    assert Decimal(charge["payload"]["charge"]["amount"]) == _cents(
        Decimal("249.00") * 5 * (end - (start + timedelta(days=3))).days / (end - start).days)

    gateway.move_clock(advance="P6D")  # day 9
    reducible = seller.get(f"/v1/subscriptions/{subscription['id']}/reducible-seats").json()
    assert reducible["total"] == 5
    [batch] = reducible["batches"]
    added = datetime.fromisoformat(batch["added_at"])
    assert datetime.fromisoformat(batch["reducible_until"]) == added + timedelta(days=7)
    _problem(_patch(seller, subscription, quantity=9), 409, "sub-3")
    reduced = _patch(seller, subscription, quantity=10)
    assert reduced.status_code == 200 and reduced.json()["quantity"] == 10
    today = start + timedelta(days=9)
    refund = tap.wait_for(SUBSCRIPTIONS, "subscription.changed",
                          lambda p: p["subscription"]["subscription_id"] == subscription["id"] and p["change"] == "quantity_reduced")
    assert Decimal(refund["payload"]["refund"]["amount"]) == _cents(Decimal("249.00") * 5 * (end - today).days / (end - start).days)
    assert seller.get(f"/v1/subscriptions/{subscription['id']}/reducible-seats").json()["total"] == 0
    active = seller.get("/v1/licenses", params={"order_number": None, "pack_number": subscription["pack_number"]}).json()["items"]
    assert len(active) == 10


def test_sub8_cancel_within_7_days_refunds_and_day_8_is_refused(gateway, seller, tap):
    late = _buy(seller)
    early = _buy(seller)
    gateway.move_clock(advance="P2D")
    cancelled = seller.post(f"/v1/subscriptions/{early['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    event = tap.wait_for(SUBSCRIPTIONS, "subscription.changed",
                         lambda p: p["subscription"]["subscription_id"] == early["id"] and p["change"] == "cancelled")
    assert Decimal(event["payload"]["refund"]["amount"]) > 0
    _problem(seller.post(f"/v1/subscriptions/{early['id']}/cancel"), 409, "sub-8")
    gateway.move_clock(advance="P6D")
    body = _problem(seller.post(f"/v1/subscriptions/{late['id']}/cancel"), 409, "sub-8")
    assert "auto-renew" in body["detail"]


def test_sub7_suspend_resume_and_still_suspended_at_term_end_expires(gateway, seller):
    subscription = _buy(seller, term="P1M", frequency="monthly", quantity=2)
    suspended = seller.post(f"/v1/subscriptions/{subscription['id']}/suspend").json()
    assert (suspended["status"], suspended["auto_renew"]) == ("suspended", False)
    _problem(seller.post(f"/v1/subscriptions/{subscription['id']}/suspend"), 409, "sub-7")
    resumed = seller.post(f"/v1/subscriptions/{subscription['id']}/resume").json()
    assert (resumed["status"], resumed["auto_renew"]) == ("active", False)
    seller.post(f"/v1/subscriptions/{subscription['id']}/suspend")
    gateway.move_clock(advance="P32D")
    assert seller.get(f"/v1/subscriptions/{subscription['id']}").json()["status"] == "expired"
    assert seller.get("/v1/licenses", params={"pack_number": subscription["pack_number"]}).json()["items"] == []


def test_sub9_sub5_renewal_applies_the_scheduled_changes(gateway, seller, tap):
    subscription = _buy(seller, offer_id="forge-db", quantity=4, term="P1M", frequency="monthly")
    _problem(seller.http.put(f"/v1/subscriptions/{subscription['id']}/scheduled-changes",
                             json={"offer_id": "forge-ide"}), 409, "cat-4")
    scheduled = seller.http.put(f"/v1/subscriptions/{subscription['id']}/scheduled-changes",
                                json={"offer_id": "all-products-pack", "quantity": 6})
    assert scheduled.status_code == 200, scheduled.text
    assert scheduled.json() == {"offer_id": "all-products-pack", "quantity": 6, "term": None, "billing_frequency": None}
    gateway.move_clock(advance="P32D")
    renewed = seller.get(f"/v1/subscriptions/{subscription['id']}").json()
    assert (renewed["offer_id"], renewed["quantity"], renewed["status"]) == ("all-products-pack", 6, "active")
    assert renewed["term_start"] == subscription["term_end"]
    assert renewed["scheduled_changes"] is None
    event = tap.wait_for(SUBSCRIPTIONS, "subscription.renewed",
                         lambda p: p["subscription"]["subscription_id"] == subscription["id"])
    monthly_pack = Decimal("649.00") / 12 * Decimal("1.20")
    assert Decimal(event["payload"]["amount"]["amount"]) == _cents(_cents(monthly_pack) * 6)
    assert len(seller.get("/v1/licenses", params={"pack_number": subscription["pack_number"]}).json()["items"]) == 6


def test_sub9_without_auto_renew_it_expires_and_reminders_go_out_45_days_before(gateway, seller, tap):
    renewing = _buy(seller, quantity=1)
    ending = _buy(seller, quantity=1)
    assert _patch(seller, ending, auto_renew=False).json()["auto_renew"] is False
    days_left = (date.fromisoformat(renewing["term_end"]) - gateway.now().date()).days
    gateway.move_clock(advance=f"P{days_left - 45}D")
    reminder = tap.wait_for(SUBSCRIPTIONS, "subscription.reminder",
                            lambda p: p["subscription"]["subscription_id"] == renewing["id"] and p["kind"] == "renewal_reminder")
    assert reminder["payload"]["days_left"] == 45
    tap.wait_for(SUBSCRIPTIONS, "subscription.reminder",
                 lambda p: p["subscription"]["subscription_id"] == ending["id"] and p["kind"] == "renewal_reminder")
    assert len([e for e in tap.events(SUBSCRIPTIONS, "subscription.reminder")
                if e["payload"]["subscription"]["subscription_id"] == renewing["id"]]) == 1
    eventually(lambda: seller.get("/v1/notifications", params={"template": "renewal_reminder",
                                                              "customer_id": renewing["customer_id"]}).json()["items"],
               what="renewal reminder email")
    gateway.move_clock(advance="P46D")
    assert seller.get(f"/v1/subscriptions/{ending['id']}").json()["status"] == "expired"
    assert seller.get(f"/v1/subscriptions/{renewing['id']}").json()["term_start"] == renewing["term_end"]


def test_sub10_trial_refuses_changes_and_converts_at_day_30(gateway, seller):
    trial = _buy(seller, offer_id="forge-ide-trial", quantity=25, term="P1M", frequency="monthly")
    assert trial["status"] == "trial"
    _problem(_patch(seller, trial, quantity=30), 409, "sub-10")
    gateway.move_clock(advance="P30D")
    converted = seller.get(f"/v1/subscriptions/{trial['id']}").json()
    assert (converted["status"], converted["offer_id"], converted["term"], converted["billing_frequency"]) == (
        "active", "forge-ide", "P1Y", "monthly")
    assert converted["quantity"] == 25


def test_sub6_upfront_refused_mid_term_frequency_alone_scheduled(seller):
    subscription = _buy(seller, quantity=1)
    _problem(_patch(seller, subscription, billing_frequency="upfront"), 422, "sub-6")
    scheduled = _patch(seller, subscription, billing_frequency="monthly").json()
    assert scheduled["billing_frequency"] == "annual"
    assert scheduled["scheduled_changes"]["billing_frequency"] == "monthly"
    now = _patch(seller, subscription, billing_frequency="monthly", term="P3Y").json()
    assert (now["billing_frequency"], now["term"]) == ("monthly", "P3Y")


def test_sub11_suspending_the_base_suspends_its_add_ons(seller):
    customer = seller.post("/v1/customers", json=customer_body()).json()
    eventually(lambda: seller.get(f"/v1/customers/{customer['id']}/cart").status_code == 200)
    for offer in ("atlas-business-standard", "atlas-extra-storage"):
        seller.post(f"/v1/customers/{customer['id']}/cart/items",
                    json={"offer_id": offer, "quantity": 3, "term": "P1Y", "billing_frequency": "annual"})
    seller.post(f"/v1/customers/{customer['id']}/cart/checkout", json={"payment": seller.payment()})
    subs = {s["offer_id"]: s for s in seller.get(f"/v1/customers/{customer['id']}/subscriptions").json()["items"]}
    assert subs["atlas-extra-storage"]["base_subscription_id"] == subs["atlas-business-standard"]["id"]
    assert subs["atlas-extra-storage"]["term_end"] == subs["atlas-business-standard"]["term_end"]
    seller.post(f"/v1/subscriptions/{subs['atlas-business-standard']['id']}/suspend")
    assert seller.get(f"/v1/subscriptions/{subs['atlas-extra-storage']['id']}").json()["status"] == "suspended"


def test_sub12_sub13_licenses_found_assigned_and_grouped_in_packs(gateway, seller, other_partner):
    subscription = _buy(seller, quantity=3)
    pack = seller.get(f"/v1/packs/{subscription['pack_number']}").json()
    assert [s["id"] for s in pack["subscriptions"]] == [subscription["id"]]
    licenses = seller.get("/v1/licenses", params={"pack_number": subscription["pack_number"]}).json()["items"]
    assert len(licenses) == 3
    first = licenses[0]
    assert seller.get("/v1/licenses", params={"key": first["key"]}).json()["items"][0]["license_id"] == first["license_id"]
    assigned = seller.http.put(f"/v1/licenses/{first['license_id']}/assignee", json={"email": "dev@customer.example"})
    assert assigned.status_code == 200 and assigned.json()["assignee_email"] == "dev@customer.example"
    assert [l["license_id"] for l in seller.get("/v1/licenses", params={"user_email": "DEV@customer.example"}).json()["items"]] == [
        first["license_id"]]
    _problem(seller.get("/v1/licenses"), 422)
    _problem(other_partner.get(f"/v1/packs/{subscription['pack_number']}"), 404)
    _problem(other_partner.http.put(f"/v1/licenses/{first['license_id']}/assignee", json={"email": "x@y.example"}), 404)
    assert other_partner.get("/v1/licenses", params={"license_id": first["license_id"]}).json()["items"] == []
    _problem(other_partner.get(f"/v1/subscriptions/{subscription['id']}"), 404)
    _problem(other_partner.http.patch(f"/v1/subscriptions/{subscription['id']}", json={"quantity": 5}), 404)


def test_sub12_cloud_licenses_carry_a_domain_chosen_in_the_cart_or_the_customers_own(seller, other_partner):
    chosen = _buy(seller, offer_id="atlas-business-basic", quantity=2, domain="Tenant-42.Cloud.example")
    found = seller.get("/v1/licenses", params={"domain": "tenant-42.cloud.example"}).json()["items"]
    assert [(l["subscription_id"], l["domain"]) for l in found] == [(chosen["id"], "tenant-42.cloud.example")] * 2
    assert other_partner.get("/v1/licenses", params={"domain": "tenant-42.cloud.example"}).json()["items"] == []

    defaulted = _buy(seller, offer_id="atlas-business-basic", quantity=1)
    [license] = seller.get("/v1/licenses", params={"pack_number": defaulted["pack_number"]}).json()["items"]
    assert license["domain"] == "example.com"
    [on_premises] = seller.get("/v1/licenses", params={"pack_number": _buy(seller, quantity=1)["pack_number"]}).json()["items"]
    assert on_premises["domain"] is None

    customer = seller.post("/v1/customers", json=customer_body()).json()
    eventually(lambda: seller.get(f"/v1/customers/{customer['id']}/cart").status_code == 200)
    item = {"offer_id": "forge-ide", "quantity": 1, "term": "P1Y", "billing_frequency": "annual"}
    refused = _problem(seller.post(f"/v1/customers/{customer['id']}/cart/items", json={**item, "domain": "a.example"}),
                       422, "sub-12")
    assert refused["errors"][0]["field"] == "domain"
    _problem(seller.post(f"/v1/customers/{customer['id']}/cart/items",
                         json={**item, "offer_id": "atlas-business-basic", "domain": "not a domain"}), 422)
    assert seller.get(f"/v1/customers/{customer['id']}/cart").json()["items"] == []


def test_sub4_full_upgrade_keeps_the_subscription_and_refused_paths_say_why(gateway, seller, tap):
    subscription = _buy(seller, offer_id="atlas-business-basic", quantity=4)
    _problem(seller.post(f"/v1/subscriptions/{subscription['id']}/upgrade",
                         json={"target_offer_id": "forge-ide", "quantity": 4}), 409, "cat-4")
    upgraded = seller.post(f"/v1/subscriptions/{subscription['id']}/upgrade",
                           json={"target_offer_id": "atlas-business-premium", "quantity": 4})
    assert upgraded.status_code == 200, upgraded.text
    assert (upgraded.json()["id"], upgraded.json()["offer_id"], upgraded.json()["quantity"]) == (
        subscription["id"], "atlas-business-premium", 4)
    _problem(seller.post(f"/v1/subscriptions/{subscription['id']}/upgrade",
                         json={"target_offer_id": "atlas-business-basic", "quantity": 4}), 409, "cat-4")
    event = tap.wait_for(SUBSCRIPTIONS, "subscription.changed",
                         lambda p: p["subscription"]["subscription_id"] == subscription["id"] and p["change"] == "upgraded")
    assert Decimal(event["payload"]["charge"]["amount"]) > Decimal(event["payload"]["refund"]["amount"]) > 0
    seller.post(f"/v1/subscriptions/{subscription['id']}/suspend")
    _problem(seller.post(f"/v1/subscriptions/{subscription['id']}/upgrade",
                         json={"target_offer_id": "atlas-business-premium", "quantity": 1}), 409, "sub-4")


def test_sub4_partial_upgrade_is_coterminous_and_into_existing_adds_seats(seller):
    customer = seller.post("/v1/customers", json=customer_body()).json()
    eventually(lambda: seller.get(f"/v1/customers/{customer['id']}/cart").status_code == 200)
    for offer, quantity in (("atlas-business-basic", 10), ("atlas-business-premium", 2)):
        seller.post(f"/v1/customers/{customer['id']}/cart/items",
                    json={"offer_id": offer, "quantity": quantity, "term": "P1Y", "billing_frequency": "annual"})
    seller.post(f"/v1/customers/{customer['id']}/cart/checkout", json={"payment": seller.payment()})
    subs = {s["offer_id"]: s for s in seller.get(f"/v1/customers/{customer['id']}/subscriptions").json()["items"]}
    basic = subs["atlas-business-basic"]
    partial = seller.post(f"/v1/subscriptions/{basic['id']}/upgrade",
                          json={"target_offer_id": "atlas-business-standard", "quantity": 3}).json()
    assert partial["id"] != basic["id"] and partial["quantity"] == 3 and partial["term_end"] == basic["term_end"]
    into = seller.post(f"/v1/subscriptions/{basic['id']}/upgrade",
                       json={"target_subscription_id": subs["atlas-business-premium"]["id"], "quantity": 2}).json()
    assert into["id"] == subs["atlas-business-premium"]["id"] and into["quantity"] == 4
    assert seller.get(f"/v1/subscriptions/{basic['id']}").json()["quantity"] == 5
    _problem(seller.post(f"/v1/subscriptions/{basic['id']}/upgrade",
                         json={"target_offer_id": "atlas-business-standard", "quantity": 6}), 422, "sub-4")


def test_sub10_trial_converted_mid_term_needs_25_seats(seller):
    trial = _buy(seller, offer_id="forge-ide-trial", quantity=25, term="P1M", frequency="monthly")
    _problem(seller.post(f"/v1/subscriptions/{trial['id']}/convert-trial", json={"quantity": 10}), 422, "sub-10")
    converted = seller.post(f"/v1/subscriptions/{trial['id']}/convert-trial", json={"quantity": 30}).json()
    assert (converted["status"], converted["offer_id"], converted["quantity"], converted["term"]) == (
        "active", "forge-ide", 30, "P1Y")
    assert len(seller.get("/v1/licenses", params={"pack_number": trial["pack_number"]}).json()["items"]) == 30
    _problem(seller.post(f"/v1/subscriptions/{trial['id']}/convert-trial", json={"quantity": 30}), 409, "sub-10")


def test_sub14_renew_or_downgrade_picked_licenses_into_the_cart(seller):
    bundle = _buy(seller, offer_id="all-products-pack", quantity=3)
    licenses = seller.get("/v1/licenses", params={"pack_number": bundle["pack_number"]}).json()["items"]
    picked = [l["license_id"] for l in licenses[:2]]
    downgraded = seller.post("/v1/licenses/renew", json={"license_ids": picked, "action": "downgrade"})
    assert downgraded.status_code == 201, downgraded.text
    assert sorted((i["offer_id"], i["quantity"]) for i in downgraded.json()["items"]) == [("forge-db", 2), ("forge-ide", 2)]
    single = _buy(seller, offer_id="forge-db", quantity=1)
    single_license = seller.get("/v1/licenses", params={"pack_number": single["pack_number"]}).json()["items"][0]
    _problem(seller.post("/v1/licenses/renew", json={"license_ids": [single_license["license_id"]], "action": "downgrade"}),
             409, "cat-4")
    renewed = seller.post("/v1/licenses/renew", json={"license_ids": [single_license["license_id"]], "action": "renew"}).json()
    assert [(i["offer_id"], i["quantity"]) for i in renewed["items"]] == [("forge-db", 1)]


def _many_subscriptions(seller, count: int) -> tuple[dict, list[str]]:
    customer = seller.post("/v1/customers", json=customer_body()).json()
    eventually(lambda: seller.get(f"/v1/customers/{customer['id']}/cart").status_code == 200)
    for _ in range(count):
        seller.post(f"/v1/customers/{customer['id']}/cart/items",
                    json={"offer_id": "forge-db", "quantity": 1, "term": "P1M", "billing_frequency": "monthly"})
    order = seller.post(f"/v1/customers/{customer['id']}/cart/checkout", json={"payment": seller.payment()})
    assert order.status_code == 201, order.text
    subscriptions = seller.get(f"/v1/customers/{customer['id']}/subscriptions").json()["items"]
    assert len(subscriptions) == count
    return customer, [s["id"] for s in subscriptions]


def _renewal_invoices(seller, customer_id: str) -> list[dict]:
    items = seller.get("/v1/invoices", params={"customer_id": customer_id, "limit": 500}).json()["items"]
    return [i for i in items if any(line["kind"] == "renewal" for line in i["lines"])]


def test_sub9_two_replicas_renew_each_subscription_exactly_once(stack, gateway, seller, tap):
    from portal_stack.infra import free_port
    from portal_stack.stack import ServiceProcess

    bought = [_many_subscriptions(seller, 50) for _ in range(4)]
    ids = [i for _, customer_ids in bought for i in customer_ids]
    first = stack.processes["subscriptions"]
    port = free_port()
    replica = ServiceProcess("subscriptions", port, {**first.env, "HTTP_PORT": str(port), "SCHEDULER_INTERVAL_SECONDS": "0.2"},
                             first.log_path.with_name("subscriptions-replica.log"))
    replica.start()
    try:
        replica.wait_ready()
        assert gateway.move_clock(advance="P32D").status_code == 200
        renewed = eventually(
            lambda: len(r := [e for e in tap.events("portal.subscriptions", "subscription.renewed")
                              if e["payload"]["subscription"]["subscription_id"] in ids]) >= 200 and r,
            timeout=60, what="200 renewals")
    finally:
        replica.kill()
    assert len(renewed) == 200
    assert len({e["payload"]["subscription"]["subscription_id"] for e in renewed}) == 200
    def renewal_invoices():
        return [i for customer, _ in bought for i in _renewal_invoices(seller, customer["id"])]

    invoices = eventually(lambda: len(i := renewal_invoices()) >= 200 and i, timeout=60, what="200 renewal invoices")
    assert len(invoices) == 200


def test_sub9_renewals_catch_up_after_the_service_was_down_across_the_term_end(stack, gateway, seller):
    subscription = _buy(seller, offer_id="forge-db", quantity=2, term="P1M", frequency="monthly")
    stack.processes["subscriptions"].kill()
    try:
        moved = gateway.move_clock(advance="P40D")
        assert moved.status_code == 503 and "subscriptions" in moved.json()["detail"]
    finally:
        stack.restart("subscriptions")
    again = gateway.move_clock(advance="PT0S")
    assert again.status_code == 200, again.text
    renewed = seller.get(f"/v1/subscriptions/{subscription['id']}").json()
    assert renewed["status"] == "active" and renewed["term_start"] == subscription["term_end"]
    assert date.fromisoformat(renewed["term_end"]) > gateway.now().date()
