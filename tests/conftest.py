"""Fixtures of the tests that drive the running system (end-to-end and chaos): the event tap and the demo catalog."""

import pytest

from portal_stack.testing import EventTap


@pytest.fixture(scope="session")
def tap(stack) -> EventTap:
    return EventTap(stack.infra.kafka_bootstrap, stack.topic_prefix)


@pytest.fixture(scope="session")
def catalog(stack) -> dict:
    """The demo catalog, loaded once through the operator's upload (CAT-7)."""
    from portal_stack.demo import load_catalog

    return load_catalog(stack.gateway_url, stack.operator_token)
