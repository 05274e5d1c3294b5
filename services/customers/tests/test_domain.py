"""CUS rules checked when a customer is created (domain layer, no database)."""

from datetime import UTC, datetime, timedelta

import pytest

from portal_shared.problems import InvalidInput

from portal_customers.domain.customer import CustomerTerms
from portal_customers.domain.reseller_change import ResellerChangeCode


def terms(**overrides):
    values = {"name": "Acme SL", "name_ascii": None, "segment": "commercial", "extended_term_months": None,
              "three_year_commitment": False}
    values.update(overrides)
    return CustomerTerms(**values)


def test_cus1_ascii_name_required_when_the_legal_name_is_not_ascii():
    with pytest.raises(InvalidInput) as refused:
        terms(name="Müller GmbH").check()
    assert refused.value.rule == "CUS-1"
    assert refused.value.errors == [{"field": "name_ascii", "message": refused.value.errors[0]["message"]}]
    terms(name="Müller GmbH", name_ascii="Mueller GmbH").check()


def test_cus1_ascii_name_must_be_ascii():
    with pytest.raises(InvalidInput, match="only ASCII"):
        terms(name="Müller GmbH", name_ascii="Müller").check()


@pytest.mark.parametrize(
    ("segment", "months", "allowed"),
    [("commercial", 12, False), ("commercial", 13, True), ("commercial", 36, True), ("commercial", 37, False),
     ("education", 48, True), ("education", 49, False), ("government", 40, True), ("government", 12, False)],
)
def test_cus4_extended_term_range_depends_on_the_segment(segment, months, allowed):
    check = terms(segment=segment, extended_term_months=months).check
    if allowed:
        check()
    else:
        with pytest.raises(InvalidInput) as refused:
            check()
        assert refused.value.rule == "CUS-4"
        assert refused.value.errors[0]["field"] == "extended_term_months"


def test_cus12_three_year_commitment_refused_with_a_prepaid_extended_term():
    with pytest.raises(InvalidInput) as refused:
        terms(extended_term_months=24, three_year_commitment=True).check()
    assert refused.value.rule == "CUS-12"
    terms(three_year_commitment=True).check()


def test_cus5_a_reseller_invites_only_a_distributor_it_is_linked_to():
    from portal_customers.domain.relationship import check_distributor_pair

    check_distributor_pair("reseller", "distributor", True)
    for requester, invited, linked in (("distributor", "distributor", True), ("reseller", "reseller", True),
                                       ("reseller", "distributor", False), ("reseller", None, False)):
        with pytest.raises(InvalidInput) as refused:
            check_distributor_pair(requester, invited, linked)
        assert refused.value.rule == "CUS-5" and refused.value.errors[0]["field"] == "with_distributor_id"


def test_cus7_the_redeem_page_state_is_pending_then_expired_after_72_hours_and_used_once_redeemed():
    issued = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    code = ResellerChangeCode(issued_at=issued, used_at=None)
    assert code.state(issued + timedelta(hours=71, minutes=59)) == "pending"
    assert code.state(issued + timedelta(hours=72)) == "expired"
    used = ResellerChangeCode(issued_at=issued, used_at=issued + timedelta(hours=1))
    assert used.state(issued + timedelta(hours=2)) == "used"
    assert used.state(issued + timedelta(hours=80)) == "used"
