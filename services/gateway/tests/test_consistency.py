"""Issue 15 #4, read-your-writes: the gateway's knowledge of which partners have pending events (no database)."""

import uuid

from portal_gateway.consistency import PendingIndex


def test_trust_4_a_pair_is_forgotten_only_if_nothing_was_added_since_its_lookup():
    index = PendingIndex("postgresql://unused")
    index.listening = True
    pair = (uuid.uuid4(), "subscriptions")
    assert not index.may_have(pair)
    index.add([pair])
    looked_up = index.version(pair)
    index.add([pair])  # another write of the partner while the lookup ran
    index.forget(pair, looked_up)
    assert index.may_have(pair)
    index.forget(pair, index.version(pair))
    assert not index.may_have(pair)


def test_trust_4_without_its_listening_connection_every_request_looks_up():
    index = PendingIndex("postgresql://unused")
    assert index.may_have((uuid.uuid4(), "billing"))


def test_trust_4_another_replica_s_notification_marks_its_pairs():
    index = PendingIndex("postgresql://unused")
    index.listening = True
    partner = uuid.uuid4()
    index._notified(f"{partner}:billing,{partner}:customers,garbage")
    assert index.may_have((partner, "billing")) and index.may_have((partner, "customers"))
    assert not index.may_have((partner, "notifications"))
