"""X-2: event contracts are pinned by committed snapshots; a breaking change fails here."""

import json
from pathlib import Path

import pytest

from portal_shared.contracts import breaking_changes, schema_of, snapshot_name
from portal_shared.events import registered_events
from portal_shared.events.base import Envelope

SNAPSHOTS = Path(__file__).resolve().parents[1] / "contracts"


@pytest.mark.parametrize("contract", registered_events(), ids=lambda c: f"{c.TYPE}.v{c.VERSION}")
def test_contract_matches_its_committed_snapshot(contract):
    path = SNAPSHOTS / snapshot_name(contract)
    assert path.exists(), f"new contract {contract.TYPE} v{contract.VERSION}: run `make contracts` and commit the snapshot"
    snapshot = json.loads(path.read_text())
    assert snapshot["topic"] == contract.TOPIC, "an event may not move to another topic"
    assert breaking_changes(snapshot["schema"], schema_of(contract)["schema"]) == []


def test_every_snapshot_still_has_its_contract():
    live = {snapshot_name(c) for c in registered_events()}
    orphans = sorted(p.name for p in SNAPSHOTS.glob("*.json") if p.name not in live)
    assert orphans == [], "a published contract version was removed; keep it beside the new version"


def _schema(properties, required=()):
    return {"type": "object", "properties": properties, "required": list(required)}


def test_breaking_changes_are_detected():
    old = _schema({"a": {"type": "string"}, "b": {"type": "integer"}}, ["a"])
    assert breaking_changes(old, _schema({"a": {"type": "string"}}, ["a"])) == ["b: removed or renamed"]
    assert breaking_changes(old, _schema({"a": {"type": "integer"}, "b": {"type": "integer"}}, ["a"])) == ["a: type changed"]
    assert breaking_changes(old, _schema({"a": {"type": "string"}, "b": {"type": "integer"}}, ["a", "b"])) == [
        "b: became required"
    ]


def test_adding_an_optional_field_is_compatible():
    old = _schema({"a": {"type": "string"}}, ["a"])
    new = _schema({"a": {"type": "string"}, "c": {"anyOf": [{"type": "string"}, {"type": "null"}]}}, ["a"])
    assert breaking_changes(old, new) == []


def test_nested_fields_are_compared():
    old = {"type": "object", "properties": {"x": {"$ref": "#/$defs/X"}}, "$defs": {"X": _schema({"y": {"type": "string"}})}}
    new = {"type": "object", "properties": {"x": {"$ref": "#/$defs/X"}}, "$defs": {"X": _schema({"z": {"type": "string"}})}}
    assert breaking_changes(old, new) == ["x.y: removed or renamed"]


def test_envelope_round_trip_and_key_is_the_customer():
    contract = registered_events()[0]
    envelope = Envelope.model_validate_json(
        json.dumps(
            {
                "event_id": "2b1e8d3c-1111-4111-8111-111111111111",
                "type": contract.TYPE,
                "version": contract.VERSION,
                "occurred_at": "2026-01-01T00:00:00Z",
                "partner_id": "2b1e8d3c-2222-4222-8222-222222222222",
                "customer_id": "2b1e8d3c-3333-4333-8333-333333333333",
                "payload": {},
            }
        )
    )
    assert envelope.key == "2b1e8d3c-3333-4333-8333-333333333333"
    assert envelope.contract() is contract
