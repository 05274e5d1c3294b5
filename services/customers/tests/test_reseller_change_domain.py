"""CUS-7 and CUS-14 rules (domain layer, no database)."""

import pytest

from portal_shared.problems import RuleViolation

from portal_customers.domain.invitation import check_not_primary_admin_of_namesake
from portal_customers.domain.reseller_change import DAILY_LIMIT, check_daily_limit


def test_cus7_trust_12_the_daily_limit_is_five_codes_per_requesting_partner():
    for issued_to_this_partner in range(DAILY_LIMIT):
        check_daily_limit(issued_to_this_partner)
    with pytest.raises(RuleViolation, match="per customer per day and partner") as refused:
        check_daily_limit(DAILY_LIMIT)
    assert refused.value.rule == "CUS-7"


def test_cus14_a_namesake_primary_admin_is_refused():
    check_not_primary_admin_of_namesake(False)
    with pytest.raises(RuleViolation) as refused:
        check_not_primary_admin_of_namesake(True)
    assert refused.value.rule == "CUS-14"
