"""End-to-end fixtures: partners created through the public API of the running system."""

import pytest

from portal_stack.testing import Gateway, PartnerClient


@pytest.fixture(scope="module")
def partner(gateway: Gateway) -> PartnerClient:
    return gateway.create_partner()


@pytest.fixture(scope="module")
def other_partner(gateway: Gateway) -> PartnerClient:
    return gateway.create_partner()
