"""Use cases of the gateway: partners, users, API keys, authentication."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert

from portal_shared.api.partners import ApiKeyCreate, PartnerCreate, PartnerRecord, UserCreate
from portal_shared.db import UnitOfWorkFactory
from portal_shared.problems import NotFound, Problem
from portal_shared.security import digest, new_token, same_secret

from portal_gateway.adapters.services import ServiceClients
from portal_gateway.consistency import Tracker, published
from portal_gateway.adapters.tables import api_keys, partners, users
from portal_gateway.domain.accounts import check_grant
from portal_gateway.domain.roles import OPERATOR, Principal
from portal_gateway.principals import CHANNEL, PrincipalCache
from portal_gateway.domain.tokens import API_KEY_PREFIX, AccessClaims, issue_access_token, read_access_token

_hasher = PasswordHasher()
_NO_USER_HASH = _hasher.hash("no such user: constant-time comparison")
_LAST_USED_GRAIN = timedelta(minutes=1)


def _partner_view(row: Any) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "name": row.name,
        "kind": row.kind,
        "country": row.country,
        "currency": row.currency,
        "locale": row.locale,
        "created_at": row.created_at.isoformat(),
    }


async def create_partner(
    uow_factory: UnitOfWorkFactory, services: ServiceClients, tracker: Tracker, body: PartnerCreate
) -> dict[str, Any]:
    """Register the partner in service customers, then its first global_admin here, in one local transaction
    (with the events the registration published pending for the new partner: its first calls wait for them)."""
    partner_id = uuid.uuid4()
    record = PartnerRecord(name=body.name, kind=body.kind, country=body.country, currency=body.currency, locale=body.locale)
    async with uow_factory() as uow:
        now = uow.clock.now()
        await uow.session.execute(insert(partners).values(id=partner_id, created_at=now, **record.model_dump()))
        admin_id = await _insert_user(uow, partner_id, body.admin.name, str(body.admin.email), body.admin.password, ["global_admin"])
        response = await services.request(
            "customers", "PUT", f"/internal/partners/{partner_id}", json=record.model_dump()
        )
        if response.status_code >= 400:
            raise Problem(502, f"service customers refused the partner ({response.status_code})")
        await tracker.record(uow.session, [partner_id], published(response))
        row = (await uow.session.execute(select(partners).where(partners.c.id == partner_id))).one()
    return {**_partner_view(row), "admin": {"id": str(admin_id), "email": str(body.admin.email), "roles": ["global_admin"]}}


async def _insert_user(uow, partner_id: uuid.UUID, name: str, email: str, password: str, roles: list[str]) -> uuid.UUID:
    user_id = uuid.uuid4()
    created = await uow.session.scalar(
        insert(users)
        .values(
            id=user_id,
            partner_id=partner_id,
            name=name,
            email=email.lower(),
            password_hash=hash_password(password),
            roles=roles,
            created_at=uow.clock.now(),
        )
        .on_conflict_do_nothing(index_elements=["email"])
        .returning(users.c.id)
    )
    if created is None:
        raise Problem(409, f"a user with email {email} already exists", kind="user-exists")
    return user_id


async def get_partner(uow_factory: UnitOfWorkFactory, partner_id: uuid.UUID) -> dict[str, Any]:
    async with uow_factory.read() as uow:
        row = (await uow.session.execute(select(partners).where(partners.c.id == partner_id))).first()
    if row is None:
        raise NotFound("partner")
    return _partner_view(row)


async def create_user(uow_factory: UnitOfWorkFactory, principal: Principal, body: UserCreate) -> dict[str, Any]:
    check_grant(principal, body.roles)
    async with uow_factory() as uow:
        user_id = await _insert_user(uow, principal.partner_id, body.name, str(body.email), body.password, list(body.roles))
    return {"id": str(user_id), "name": body.name, "email": str(body.email).lower(), "roles": list(body.roles)}


async def create_api_key(uow_factory: UnitOfWorkFactory, principal: Principal, body: ApiKeyCreate) -> dict[str, Any]:
    check_grant(principal, body.roles)
    key = new_token(API_KEY_PREFIX)
    key_id = uuid.uuid4()
    async with uow_factory() as uow:
        await uow.session.execute(
            insert(api_keys).values(
                id=key_id,
                partner_id=principal.partner_id,
                name=body.name,
                key_hash=digest(key),
                prefix=key[:12],
                roles=list(body.roles),
                created_by=principal.actor,
                created_at=uow.clock.now(),
            )
        )
    return {"id": str(key_id), "name": body.name, "roles": list(body.roles), "key": key, "prefix": key[:12]}


async def revoke_api_key(
    uow_factory: UnitOfWorkFactory, cache: PrincipalCache, principal: Principal, key_id: uuid.UUID
) -> None:
    """Revoked at once: every gateway replica forgets its cached principals when this commits."""
    async with uow_factory() as uow:
        await uow.session.execute(text(f"NOTIFY {CHANNEL}"))
        revoked = await uow.session.scalar(
            update(api_keys)
            .where(api_keys.c.id == key_id, api_keys.c.partner_id == principal.partner_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=uow.clock.now())
            .returning(api_keys.c.id)
        )
    cache.forget_all()
    if revoked is None:
        raise NotFound("API key")


async def issue_token(
    uow_factory: UnitOfWorkFactory, email: str, password: str, *, secret: str, ttl: timedelta
) -> dict[str, Any]:
    async with uow_factory.read() as uow:
        row = (
            await uow.session.execute(select(users).where(users.c.email == email.lower(), users.c.disabled_at.is_(None)))
        ).first()
        now = uow.clock.now()
    if not password_matches(row.password_hash if row else None, password):
        raise Problem(401, "wrong email or password", headers={"WWW-Authenticate": "Bearer"})
    claims = AccessClaims(row.id, row.partner_id, row.token_version)
    token = issue_access_token(claims, secret=secret, now=now, ttl=ttl)
    return {"access_token": token, "token_type": "bearer", "expires_in": int(ttl.total_seconds())}


def password_matches(password_hash: str | None, password: str) -> bool:
    """Verifying against a fixed hash when there is no user keeps the timing of both failures alike."""
    try:
        return _hasher.verify(password_hash or _NO_USER_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def hash_password(password: str) -> str:
    return _hasher.hash(password)


# An API key's `last_used_at` is written at most once a minute, in the statement that authenticates it.
_KEY_LOOKUP = text("""
    WITH k AS (SELECT id, partner_id, roles, last_used_at FROM api_keys WHERE key_hash = :key AND revoked_at IS NULL),
    touched AS (UPDATE api_keys SET last_used_at = :now FROM k
                WHERE api_keys.id = k.id AND (k.last_used_at IS NULL OR k.last_used_at < :stale))
    SELECT id, partner_id, roles FROM k
""")


async def authenticate(
    uow_factory: UnitOfWorkFactory, cache: PrincipalCache, token: str, *, operator_token: str, secret: str
) -> Principal | None:
    """The caller behind a bearer token. An API key comes from the cache when it can (see principals.py); a
    user is read on every request, so disabling it or changing its password stops its tokens at once on every
    replica (its token's version must still be the user's)."""
    if same_secret(token, operator_token):
        return OPERATOR
    if not token.startswith(API_KEY_PREFIX):
        claims = read_access_token(token, secret=secret, now=uow_factory.clock.now())
        if claims is None:
            return None
        query = select(users.c.id, users.c.partner_id, users.c.roles).where(
            users.c.id == claims.user_id, users.c.disabled_at.is_(None), users.c.token_version == claims.version
        )
        async with uow_factory.read() as uow:
            row = (await uow.session.execute(query)).first()
        return None if row is None else Principal(
            actor=f"user:{row.id}", partner_id=row.partner_id, roles=frozenset(row.roles), user_id=row.id
        )
    key = digest(token)
    found, principal = cache.get(key)
    if found:
        return principal
    generation = cache.generation
    async with uow_factory.read() as uow:
        now = uow.clock.now()
        row = (await uow.session.execute(_KEY_LOOKUP, {"key": key, "now": now, "stale": now - _LAST_USED_GRAIN})).first()
    principal = None if row is None else Principal(
        actor=f"api_key:{row.id}", partner_id=row.partner_id, roles=frozenset(row.roles)
    )
    if principal is not None:
        cache.put(key, principal, generation)
    return principal
