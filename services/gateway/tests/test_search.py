"""The search bar: recognition by prefix and shape (pure), and the fan-out to real HTTP services with a deadline."""

import time

import pytest

from portal_shared.service_tokens import verify
from portal_stack.testing import SERVICE_KEY

from portal_gateway.domain.roles import Capability
from portal_gateway.domain.search import HitType, hits, recognise


@pytest.mark.parametrize(("query", "kind", "path", "params"), [
    ("C-00000042", HitType.CUSTOMER, "/v1/customers", {"number": "C-00000042"}),
    (" c-00000042 ", HitType.CUSTOMER, "/v1/customers", {"number": "C-00000042"}),
    ("Ana@Hola.es", HitType.CUSTOMER, "/v1/customers", {"email": "ana@hola.es"}),
    ("Q-00000007", HitType.QUOTE, "/v1/quotes", {"number": "Q-00000007"}),
    ("o-42", HitType.ORDER, "/v1/orders", {"number": "O-00000042"}),
    ("INV-00000003", HitType.INVOICE, "/v1/invoices", {"number": "INV-00000003"}),
    ("CN-1", HitType.CREDIT_NOTE, "/v1/credit-notes", {"number": "CN-00000001"}),
    ("SP-00000009", HitType.PACK, "/v1/packs/SP-00000009", {}),
    ("L-AB12CD34EF", HitType.LICENSE, "/v1/licenses", {"license_id": "L-AB12CD34EF"}),
])
def test_a_query_is_recognised_by_its_prefix_and_shape(query, kind, path, params):
    (lookup,) = recognise(query)
    assert (lookup.type, lookup.path) == (kind, path)
    assert {k: v for k, v in lookup.params.items() if k != "limit"} == params


def test_billing_documents_need_the_billing_right_and_commerce_the_support_right():
    assert recognise("INV-1")[0].capability is Capability.BILLING
    assert recognise("CN-1")[0].capability is Capability.BILLING
    assert recognise("O-1")[0].capability is Capability.SUPPORT_READ


@pytest.mark.parametrize("query", ["Hola SA", "C-123", "L-SHORT", "ana@", "INV-ABC"])
def test_anything_else_is_a_name_search_on_customers_quotes_and_orders(query):
    lookups = recognise(query)
    assert [(l.type, l.params.get("q") or l.params.get("customer_name")) for l in lookups] == [
        (HitType.CUSTOMER, query.strip()), (HitType.QUOTE, query.strip()), (HitType.ORDER, query.strip())]


def test_hits_are_typed_with_a_title_and_a_link():
    (customer,) = recognise("C-00000042")
    assert hits(customer, {"items": [{"id": "c1", "number": "C-00000042", "name": "Hola SA"}]}) == [
        {"type": "customer", "id": "c1", "number": "C-00000042", "title": "Hola SA", "link": "/v1/customers/c1"}]
    (order,) = recognise("O-1")
    assert hits(order, {"items": [{"id": "o1", "number": "O-00000001", "customer": {"name": "Hola SA"}}]})[0] == {
        "type": "order", "id": "o1", "number": "O-00000001", "title": "Hola SA", "link": "/v1/orders/O-00000001"}
    (pack,) = recognise("SP-1")
    assert hits(pack, {"number": "SP-00000001", "subscriptions": [{}, {}]})[0]["link"] == "/v1/packs/SP-00000001"
    (license_,) = recognise("L-AB12CD34EF")
    found = hits(license_, {"items": [{"license_id": "L-AB12CD34EF", "offer_name": "IDE", "assignee_email": "a@b.c"}]})
    assert found[0]["title"] == "IDE (a@b.c)"


CUSTOMER = {"id": "c1", "number": "C-00000042", "name": "Hola SA"}


@pytest.mark.infra
async def test_a_number_is_found_in_its_owning_service_with_the_callers_tenant(client, partner, upstream):
    seller = await partner()
    upstream.state.items["/v1/customers"] = {"items": [CUSTOMER], "next_cursor": None}
    found = await client.get("/v1/search", params={"q": "C-00000042"}, headers=seller.key.headers)
    assert found.status_code == 200
    assert found.json() == {"query": "C-00000042", "warnings": [], "items": [
        {"type": "customer", "id": "c1", "number": "C-00000042", "title": "Hola SA", "link": "/v1/customers/c1"}]}
    (call,) = [c for c in upstream.state.calls if c[1] == "/v1/customers"]
    assert call[2] == {"number": "C-00000042", "limit": "10"} and "x-partner-id" not in call[3]
    signed = verify(call[3]["x-service-token"], [SERVICE_KEY.encode()], method="GET", path="/v1/customers", now=time.time())
    assert signed.partner_id == seller.id and signed.actor == seller.key.actor


@pytest.mark.infra
async def test_a_name_fans_out_in_parallel_and_a_slow_service_gives_partial_results(gateway_app, partner, upstream):
    seller = await partner()
    upstream.state.items["/v1/customers"] = {"items": [CUSTOMER]}
    upstream.state.items["/v1/quotes"] = {"items": [{"id": "q1", "number": "Q-00000001", "end_user": {"name": "Hola"}}]}
    upstream.state.items["/v1/orders"] = {"items": [{"id": "o1", "number": "O-00000001", "customer": {"name": "Hola"}}]}
    upstream.state.delays["/v1/orders"] = 2
    async with gateway_app(search_deadline_seconds=0.5) as client:
        found = (await client.get("/v1/search", params={"q": "Hola"}, headers=seller.key.headers)).json()
    assert [hit["type"] for hit in found["items"]] == ["customer", "quote"]
    assert found["warnings"] == [{"service": "subscriptions", "detail": "service subscriptions did not answer within 0.5 s"}]


@pytest.mark.infra
async def test_a_service_down_is_a_warning_not_an_error(gateway_app, partner):
    seller = await partner()
    async with gateway_app(customers_url="http://127.0.0.1:9") as client:
        found = await client.get("/v1/search", params={"q": "C-00000042"}, headers=seller.key.headers)
    assert found.status_code == 200
    assert found.json()["items"] == [] and found.json()["warnings"][0]["service"] == "customers"


@pytest.mark.infra
async def test_billing_hits_only_for_callers_with_the_billing_right(client, partner, upstream):
    sales, billing = await partner("sales_agent"), await partner("billing_admin")
    upstream.state.items["/v1/invoices"] = {"items": [{"id": "i1", "number": "INV-00000001", "customer": {"name": "X"}}]}
    hidden = (await client.get("/v1/search", params={"q": "INV-1"}, headers=sales.key.headers)).json()
    shown = (await client.get("/v1/search", params={"q": "INV-1"}, headers=billing.key.headers)).json()
    assert hidden["items"] == [] and [h["number"] for h in shown["items"]] == ["INV-00000001"]
    assert sum(1 for c in upstream.state.calls if c[1] == "/v1/invoices") == 1


@pytest.mark.infra
async def test_an_unknown_pack_is_no_hit_and_no_warning(client, partner):
    seller = await partner()
    found = (await client.get("/v1/search", params={"q": "SP-00000404"}, headers=seller.key.headers)).json()
    assert found["items"] == [] and found["warnings"] == []
