"""Who may call a route (SPEC §0), as rules the guard can apply before the route runs.

A route's authorizing dependencies (`api.requires(capability)`, operator only)
each carry their rule as `authorizes`: a plain function of the principal that
raises the 403. The dependency applies it when the route runs; the guard
applies the same rules first for a write with an `Idempotency-Key`, so a stored
response is only ever considered for a caller the route accepts (X-4: a replay
must not skip the role check).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from fastapi.dependencies.models import Dependant
from starlette.routing import Match
from starlette.types import Scope

from portal_shared.problems import Problem

from portal_gateway.domain.roles import Capability, Principal

Rule = Callable[[Principal], None]


def needs(capability: Capability) -> Rule:
    """The rule of a partner route: a partner's caller whose roles hold `capability`."""

    def rule(principal: Principal) -> None:
        if principal.partner_id is None:
            raise Problem(403, "the operator acts on partners, not inside one; use a partner's credentials")
        if not principal.can(capability):
            raise Problem(403, f"your roles lack the right '{capability.value}'", kind=f"forbidden-{capability.value}")

    return rule


def operator_only(principal: Principal) -> None:
    if not principal.is_operator:
        raise Problem(403, "only the platform operator may do this", kind="forbidden-operator-only")


def _rules(dependant: Dependant) -> Iterator[Rule]:
    for dependency in dependant.dependencies:
        yield from _rules(dependency)
        if (rule := getattr(dependency.call, "authorizes", None)) is not None:
            yield rule


def authorize(scope: Scope, principal: Principal) -> None:
    """Apply the rules of the route this request goes to (none when no route matches: the app answers 404/405)."""
    for route in scope["app"].router.routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            if (dependant := getattr(route, "dependant", None)) is not None:
                for rule in _rules(dependant):
                    rule(principal)
            return
