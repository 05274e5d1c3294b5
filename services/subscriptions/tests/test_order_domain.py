"""COM-5 rules of an order's resellers and provider (no I/O)."""

import uuid

import pytest

from portal_shared.problems import InvalidInput

from portal_subscriptions.domain.orders import order_provider

ME, D1, D2 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def _refused(field: str, call) -> None:
    with pytest.raises(InvalidInput) as refused:
        call()
    assert refused.value.rule == "COM-5" and refused.value.errors[0]["field"] == field


def test_com5_a_distributor_provides_its_own_orders_and_a_direct_partner_none():
    assert order_provider("distributor", ME, None, set()) == ME
    assert order_provider("direct", ME, None, set()) is None
    _refused("distributor_id", lambda: order_provider("distributor", ME, D1, set()))
    _refused("distributor_id", lambda: order_provider("direct", ME, D1, {D1}))


def test_com5_a_reseller_orders_through_its_only_distributor_by_default():
    assert order_provider("reseller", ME, None, {D1}) == D1
    assert order_provider("reseller", ME, None, set()) is None


def test_com5_a_reseller_of_several_distributors_names_a_linked_one():
    assert order_provider("reseller", ME, D2, {D1, D2}) == D2
    _refused("distributor_id", lambda: order_provider("reseller", ME, None, {D1, D2}))
    _refused("distributor_id", lambda: order_provider("reseller", ME, uuid.uuid4(), {D1, D2}))
