from portal_shared.problems import PROBLEM_BASE, InvalidInput, NotFound, RuleViolation


def test_x3_rule_violation_type_ends_with_the_rule_id():
    body = RuleViolation("CUS-8", "the customer has products").body("/v1/customers/1")
    assert body["type"] == PROBLEM_BASE + "cus-8"
    assert body["status"] == 409
    assert body["rule"] == "CUS-8"
    assert body["detail"] == "the customer has products"


def test_x3_invalid_input_names_the_field():
    body = InvalidInput("name_ascii", "required", rule="CUS-1").body()
    assert body["status"] == 422
    assert body["errors"] == [{"field": "name_ascii", "message": "required"}]
    assert body["type"].endswith("/cus-1")


def test_x3_not_found_says_nothing_about_tenants():
    body = NotFound("customer").body()
    assert body == {"type": PROBLEM_BASE + "not-found", "title": "Not found", "status": 404, "detail": "customer not found"}
