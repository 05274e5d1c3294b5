"""SUB-12: which licenses carry a domain, and which one."""

import pytest

from portal_shared.problems import InvalidInput

from portal_subscriptions.domain.licenses import check_domain, license_domain


def test_sub12_only_a_cloud_offer_takes_a_domain():
    check_domain(True, "tenant.example")
    check_domain(False, None)
    with pytest.raises(InvalidInput, match="domain") as refused:
        check_domain(False, "tenant.example")
    assert refused.value.status == 422 and refused.value.rule == "SUB-12"


def test_sub12_a_cloud_license_takes_the_chosen_domain_else_the_customers_email_domain():
    assert license_domain(True, "tenant.example", "ana@Customer.EXAMPLE") == "tenant.example"
    assert license_domain(True, None, "ana@Customer.EXAMPLE") == "customer.example"
    assert license_domain(False, "tenant.example", "ana@customer.example") is None
