"""Use cases of off-boarding: list a partner's users and API keys, change a user's roles or disable it, and a
user's own password change (the rules are in `domain.accounts`).

A disabled user's tokens stop at once, on every replica: a user is read on every
request (`service.authenticate`), and disabling it or changing its password also
bumps its token version, so a token issued before never works again, not even
after the user is enabled again. The guard audits each of these writes (X-6).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update

from portal_shared.api.partners import PasswordChange, UserUpdate
from portal_shared.db import UnitOfWorkFactory
from portal_shared.pagination import older_than, page
from portal_shared.problems import InvalidInput, NotFound, Problem

from portal_gateway.adapters.tables import api_keys, users
from portal_gateway.domain.accounts import Account, changed, check_change
from portal_gateway.domain.roles import Principal
from portal_gateway.service import hash_password, password_matches


def _time(value: Any) -> str | None:
    return value.isoformat() if value else None


def user_view(row: Any) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "name": row.name,
        "email": row.email,
        "roles": list(row.roles),
        "disabled": row.disabled_at is not None,
        "disabled_at": _time(row.disabled_at),
        "created_at": row.created_at.isoformat(),
    }


def _key_view(row: Any) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "name": row.name,
        "roles": list(row.roles),
        "prefix": row.prefix,
        "created_by": row.created_by,
        "created_at": row.created_at.isoformat(),
        "last_used_at": _time(row.last_used_at),
        "revoked_at": _time(row.revoked_at),
    }


async def list_users(uow_factory: UnitOfWorkFactory, partner_id: uuid.UUID, *, limit: int,
                     cursor: str | None) -> dict[str, Any]:
    """The partner's users, newest first, disabled ones included."""
    query = select(*[c for c in users.c if c.name != "password_hash"]).where(users.c.partner_id == partner_id)
    return await _page(uow_factory, query, users, user_view, limit, cursor)


async def list_api_keys(uow_factory: UnitOfWorkFactory, partner_id: uuid.UUID, *, limit: int,
                        cursor: str | None) -> dict[str, Any]:
    """The partner's API keys, newest first, revoked ones included; never the key (only its digest is kept)."""
    query = select(*[c for c in api_keys.c if c.name != "key_hash"]).where(api_keys.c.partner_id == partner_id)
    return await _page(uow_factory, query, api_keys, _key_view, limit, cursor)


async def _page(uow_factory: UnitOfWorkFactory, query: Any, table: Any, view: Any, limit: int,
                cursor: str | None) -> dict[str, Any]:
    if (after := older_than(cursor, table.c.created_at, table.c.id)) is not None:
        query = query.where(after)
    query = query.order_by(table.c.created_at.desc(), table.c.id.desc()).limit(limit + 1)
    async with uow_factory.read() as uow:
        rows = (await uow.session.execute(query)).all()
    return page([view(r) for r in rows], limit, lambda item: [item["created_at"], item["id"]])


def _account(row: Any) -> Account:
    return Account(row.id, frozenset(row.roles), row.disabled_at is not None)


async def update_user(uow_factory: UnitOfWorkFactory, principal: Principal,
                      user_id: uuid.UUID, body: UserUpdate) -> dict[str, Any]:
    """Change a user's roles and/or disable or enable it. The partner's users are locked for the check, so two
    concurrent changes cannot each leave the other's admin as the last one and then disable it."""
    if body.roles is None and body.disabled is None:
        raise InvalidInput("roles", "give roles, disabled or both")
    async with uow_factory() as uow:
        rows = (await uow.session.execute(
            select(users.c.id, users.c.roles, users.c.disabled_at)
            .where(users.c.partner_id == principal.partner_id).order_by(users.c.id).with_for_update()
        )).all()
        before = next((_account(row) for row in rows if row.id == user_id), None)
        if before is None:
            raise NotFound("user")
        after = changed(before, roles=body.roles, disabled=body.disabled)
        check_change(principal, after, [_account(row) for row in rows])
        values: dict[str, Any] = {"roles": sorted(after.roles)}
        if after.disabled != before.disabled:
            values["disabled_at"] = uow.clock.now() if after.disabled else None
        if after.disabled and not before.disabled:
            values["token_version"] = users.c.token_version + 1
        row = (await uow.session.execute(update(users).where(users.c.id == user_id).values(**values)
                                         .returning(*users.c))).one()
    return user_view(row)


async def change_password(uow_factory: UnitOfWorkFactory, principal: Principal, body: PasswordChange) -> None:
    """The signed-in user's own password; every token issued before (this one too) stops: sign in again."""
    if principal.user_id is None:
        raise Problem(403, "only a signed-in user has a password to change; API keys and the operator have none",
                      kind="forbidden-password")
    async with uow_factory() as uow:
        row = (await uow.session.execute(
            select(users.c.password_hash).where(users.c.id == principal.user_id).with_for_update()
        )).one()
        if not password_matches(row.password_hash, body.current_password):
            raise InvalidInput("current_password", "is not your current password")
        await uow.session.execute(
            update(users).where(users.c.id == principal.user_id)
            .values(password_hash=hash_password(body.new_password), token_version=users.c.token_version + 1)
        )
