"""End-to-end fixtures: partners created through the public API of the running system."""

import pytest

from portal_stack.testing import EventTap, Gateway, PartnerClient


@pytest.fixture(scope="module")
def partner(gateway: Gateway) -> PartnerClient:
    return gateway.create_partner()


@pytest.fixture(scope="module")
def other_partner(gateway: Gateway) -> PartnerClient:
    return gateway.create_partner()


@pytest.fixture(scope="session")
def tap(stack) -> EventTap:
    return EventTap(stack.infra.kafka_bootstrap, stack.topic_prefix)


@pytest.fixture(scope="session")
def catalog(stack) -> dict:
    """The demo catalog, loaded once through the operator's upload (CAT-7)."""
    from portal_stack.demo import load_catalog

    return load_catalog(stack.gateway_url, stack.operator_token)
