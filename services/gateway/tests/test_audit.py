"""X-6 audit: every write through the gateway is recorded; GET /v1/audit filters and pages newest first."""

from datetime import datetime, timedelta

import pytest

from portal_stack.testing import customer_body

from portal_gateway import audit

pytestmark = pytest.mark.infra


async def test_x6_writes_forwarded_or_own_are_recorded_with_who_what_result_and_request_id(client, partner):
    seller = await partner()
    created = await client.post("/v1/customers", json=customer_body(),
                                headers={**seller.key.headers, "X-Request-Id": "req-audit-1"})
    key = await client.post("/v1/partners/me/api-keys", json={"name": "ci", "roles": ["support_agent"]},
                            headers=seller.key.headers)
    support = {"Authorization": f"Bearer {key.json()['key']}"}
    denied = await client.post("/v1/partners/me/api-keys", json={"name": "x", "roles": ["global_admin"]}, headers=support)
    assert (created.status_code, key.status_code, denied.status_code) == (201, 201, 403)
    await client.get("/v1/partners/me", headers=seller.key.headers)  # a read: not audited

    entries = (await client.get("/v1/audit", headers=seller.key.headers)).json()["items"]
    assert [(e["action"], e["status"]) for e in entries] == [
        ("POST /v1/partners/me/api-keys", 403),
        ("POST /v1/partners/me/api-keys", 201),
        ("POST /v1/customers", 201),
    ]
    oldest = entries[-1]
    assert oldest["actor"] == seller.key.actor and oldest["partner_id"] == str(seller.id)
    assert oldest["resource"] == "/v1/customers" and oldest["request_id"] == "req-audit-1"
    assert entries[0]["actor"] == f"api_key:{key.json()['id']}"
    assert datetime.fromisoformat(oldest["occurred_at"]) <= datetime.fromisoformat(entries[0]["occurred_at"])


async def test_x6_the_action_names_the_route_template_and_the_resource_the_path(client, partner):
    seller = await partner()
    key = (await client.post("/v1/partners/me/api-keys", json={"name": "ci", "roles": ["support_agent"]},
                             headers=seller.key.headers)).json()
    await client.delete(f"/v1/partners/me/api-keys/{key['id']}", headers=seller.key.headers)
    newest = (await client.get("/v1/audit", headers=seller.key.headers)).json()["items"][0]
    assert newest["action"] == "DELETE /v1/partners/me/api-keys/{key_id}"
    assert newest["resource"] == f"/v1/partners/me/api-keys/{key['id']}" and newest["status"] == 204


async def test_x6_filters_by_actor_resource_and_time_and_pages_newest_first(client, partner):
    seller, stranger = await partner(), await partner()
    for _ in range(3):
        await client.post("/v1/customers", json=customer_body(), headers=seller.key.headers)
    other = (await client.post("/v1/partners/me/api-keys", json={"name": "b", "roles": ["admin_agent"]},
                               headers=seller.key.headers)).json()
    await client.post("/v1/customers", json=customer_body(), headers={"Authorization": f"Bearer {other['key']}"})
    await client.post("/v1/customers", json=customer_body(), headers=stranger.key.headers)
    read = lambda **params: client.get("/v1/audit", params=params, headers=seller.key.headers)  # noqa: E731

    everything = (await read()).json()["items"]
    assert len(everything) == 5  # the stranger's write is not the seller's
    by_actor = (await read(actor=f"api_key:{other['id']}")).json()["items"]
    assert [e["resource"] for e in by_actor] == ["/v1/customers"]
    assert len((await read(resource="/v1/customers")).json()["items"]) == 4
    assert len((await read(resource="/v1/partners/")).json()["items"]) == 1
    assert (await read(resource="/v1/customers_")).json()["items"] == []  # a prefix, not a pattern

    middle = everything[2]["occurred_at"]
    assert [e["id"] for e in (await read(to=middle)).json()["items"]] == [e["id"] for e in everything[3:]]
    assert [e["id"] for e in (await read(**{"from": middle})).json()["items"]] == [e["id"] for e in everything[:3]]

    first = (await read(limit=2)).json()
    second = (await read(limit=2, cursor=first["next_cursor"])).json()
    third = (await read(limit=2, cursor=second["next_cursor"])).json()
    assert [e["id"] for e in first["items"] + second["items"] + third["items"]] == [e["id"] for e in everything]
    assert third["next_cursor"] is None


async def test_x6_only_administrators_read_the_audit(client, partner):
    support = await partner("support_agent")
    refused = await client.get("/v1/audit", headers=support.key.headers)
    assert refused.status_code == 403 and refused.json()["type"].endswith("/forbidden-administration")


async def test_x6_entries_older_than_the_retention_are_purged(client, partner):
    seller = await partner()
    await client.post("/v1/customers", json=customer_body(), headers=seller.key.headers)
    uow = client.app.state.runtime.uow
    assert await audit.purge(uow, timedelta(days=365)) == 0
    assert await audit.purge(uow, timedelta(0)) >= 1
    assert (await client.get("/v1/audit", headers=seller.key.headers)).json()["items"] == []
