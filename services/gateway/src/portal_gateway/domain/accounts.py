"""Rules of a partner's users and API keys (SPEC §0): who may grant which roles, and off-boarding that cannot
lock a partner out of its own administration.

- No one grants a role whose rights they lack: every capability of every role
  given to a user or an API key must be one of the granter's (403).
- A partner keeps at least one enabled `global_admin` user: disabling the last
  one, or taking the role from it, is refused (409 `last-global-admin`), or
  nobody could manage the partner's users any more.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace

from portal_shared.problems import Problem

from portal_gateway.domain.roles import ROLES, Principal

ADMIN_ROLE = "global_admin"


@dataclass(frozen=True)
class Account:
    """A partner user as the rules see it."""

    id: uuid.UUID
    roles: frozenset[str]
    disabled: bool

    @property
    def administers(self) -> bool:
        return ADMIN_ROLE in self.roles and not self.disabled


def check_grant(granter: Principal, roles: Iterable[str]) -> None:
    held = {capability for role in granter.roles for capability in ROLES.get(role, ())}
    beyond = sorted(role for role in set(roles) if not ROLES.get(role, frozenset()) <= held)
    if beyond:
        raise Problem(403, f"you cannot grant roles with rights your own roles lack: {', '.join(beyond)}",
                      kind="forbidden-grant")


def changed(account: Account, *, roles: Iterable[str] | None, disabled: bool | None) -> Account:
    """The account after a change; a field left out (None) stays as it is."""
    return replace(
        account,
        roles=account.roles if roles is None else frozenset(roles),
        disabled=account.disabled if disabled is None else disabled,
    )


def check_change(granter: Principal, after: Account, partner_accounts: Iterable[Account]) -> None:
    """A change of one of the partner's users (`after`), given all its users as they are now."""
    check_grant(granter, after.roles)
    accounts = [after if account.id == after.id else account for account in partner_accounts]
    if not any(account.administers for account in accounts):
        raise Problem(409, "this would leave the partner without an enabled global_admin; make another user "
                           "global_admin first", kind="last-global-admin")
