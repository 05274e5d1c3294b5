"""Rules of off-boarding (SPEC §0, `domain.accounts`), without a database."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from portal_shared.problems import Problem

from portal_gateway.domain.accounts import Account, changed, check_change, check_grant
from portal_gateway.domain.roles import Principal
from portal_gateway.domain.tokens import AccessClaims, issue_access_token, read_access_token

PARTNER = uuid.uuid4()
ADMIN = Principal(actor="user:a", partner_id=PARTNER, roles=frozenset({"global_admin"}))
BILLING = Principal(actor="api_key:b", partner_id=PARTNER, roles=frozenset({"billing_admin"}))


def test_trust_11_no_one_grants_roles_whose_rights_they_lack():
    check_grant(ADMIN, ["global_admin", "support_agent"])
    check_grant(BILLING, ["billing_admin"])
    with pytest.raises(Problem) as refused:
        check_grant(BILLING, ["billing_admin", "sales_agent"])
    assert refused.value.status == 403 and refused.value.kind == "forbidden-grant" and "sales_agent" in refused.value.detail


def test_trust_11_the_last_enabled_global_admin_cannot_be_disabled_or_demoted():
    admin = Account(uuid.uuid4(), frozenset({"global_admin"}), disabled=False)
    agent = Account(uuid.uuid4(), frozenset({"support_agent"}), disabled=False)
    for after in (changed(admin, roles=None, disabled=True), changed(admin, roles=["sales_agent"], disabled=None)):
        with pytest.raises(Problem) as refused:
            check_change(ADMIN, after, [admin, agent])
        assert refused.value.status == 409 and refused.value.kind == "last-global-admin"
    promoted = changed(agent, roles=["global_admin"], disabled=None)
    check_change(ADMIN, promoted, [admin, agent])
    check_change(ADMIN, changed(admin, roles=None, disabled=True), [admin, promoted])


def test_trust_11_a_change_keeps_what_it_does_not_name():
    agent = Account(uuid.uuid4(), frozenset({"support_agent"}), disabled=True)
    assert changed(agent, roles=None, disabled=None) == agent
    assert changed(agent, roles=["sales_agent"], disabled=False) == Account(agent.id, frozenset({"sales_agent"}), False)


def test_trust_11_an_access_token_carries_its_users_token_version():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    token = issue_access_token(AccessClaims(uuid.uuid4(), PARTNER, 3), secret="s" * 32, now=now, ttl=timedelta(minutes=5))
    assert read_access_token(token, secret="s" * 32, now=now).version == 3
