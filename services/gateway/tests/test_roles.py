"""SPEC.md section 0: the role table, capability by capability."""

import uuid

import pytest

from portal_gateway.domain.roles import OPERATOR, Capability, Principal

Y, N = True, False
# capability: global_admin, admin_agent, sales_agent, billing_admin, support_agent — as SPEC.md's table.
SPEC_TABLE = {
    Capability.CUSTOMERS_READ: (Y, Y, Y, Y, Y),
    Capability.CUSTOMERS_WRITE: (Y, Y, Y, N, N),
    Capability.COMMERCE_WRITE: (Y, Y, Y, N, N),
    Capability.BILLING: (Y, N, N, Y, N),
    Capability.ADMINISTRATION: (Y, N, N, N, N),
    Capability.SUPPORT_READ: (Y, Y, Y, N, Y),
}
ROLES = ("global_admin", "admin_agent", "sales_agent", "billing_admin", "support_agent")


@pytest.mark.parametrize("capability", list(SPEC_TABLE))
@pytest.mark.parametrize("role_index", range(5), ids=ROLES)
def test_role_table_matches_spec(capability, role_index):
    principal = Principal(actor="user:x", partner_id=uuid.uuid4(), roles=frozenset({ROLES[role_index]}))
    assert principal.can(capability) is SPEC_TABLE[capability][role_index]


def test_roles_add_up():
    principal = Principal(actor="key:x", partner_id=uuid.uuid4(), roles=frozenset({"billing_admin", "support_agent"}))
    assert principal.can(Capability.BILLING) and principal.can(Capability.SUPPORT_READ)
    assert not principal.can(Capability.CUSTOMERS_WRITE)


def test_operator_has_no_tenant_rights():
    assert OPERATOR.is_operator
    assert not any(OPERATOR.can(c) for c in Capability)
