import asyncpg
from sqlalchemy.exc import IntegrityError, OperationalError

from portal_shared.db import is_transient
from portal_shared.problems import PROBLEM_BASE, InvalidInput, NotFound, RuleViolation, unexpected_problem
from portal_stack.testing import database_shutting_down


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


def test_a_database_shutting_down_is_transient_and_answers_503_with_retry_after():
    problem = unexpected_problem(database_shutting_down())
    assert (problem.status, problem.headers) == (503, {"Retry-After": "1"})
    assert is_transient(OperationalError("SELECT 1", None, ConnectionRefusedError()))
    assert is_transient(asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"))


def test_a_broken_rule_of_the_database_is_not_transient_and_answers_500():
    violation = IntegrityError("INSERT", None, asyncpg.exceptions.UniqueViolationError("duplicate key"))
    assert not is_transient(violation) and not is_transient(ValueError("bug"))
    assert unexpected_problem(violation).status == 500
