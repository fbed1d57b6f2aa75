"""An admin's DMS integrations: create one per integrator, rotate its secret with an overlap,
revoke it. Each use case returns the integration as stored and, for create and rotate, the new
secret: the only time it exists outside the integrator's hands (only its hash is kept)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ingest import dms_integrations_repository as repository
from ingest.dms_integrations_repository import IntegrationNameTaken, IntegrationRow
from ingest.domain.dms_secrets import new_secret, retired_secret_valid_until

__all__ = ["IntegrationNameTaken", "IntegrationNotFound", "IntegrationRevoked", "IssuedSecret"]


class IntegrationNotFound(Exception):
    """No such integration in the caller's account (another account's is not found either)."""


class IntegrationRevoked(Exception):
    """A revoked integration cannot be given a new secret: create another."""


@dataclass(frozen=True)
class IssuedSecret:
    integration: IntegrationRow
    secret: str

    def __repr__(self) -> str:  # never the secret, even in a traceback
        return f"IssuedSecret(integration_id={self.integration.id!r})"


async def _one(session: AsyncSession, account_id: UUID, integration_id: UUID) -> IntegrationRow:
    found = await repository.integrations(session, account_id, integration_id)
    if not found:
        raise IntegrationNotFound(integration_id)
    return found[0]


async def create_integration(
    sessions: async_sessionmaker[AsyncSession], account_id: UUID, name: str, secret: str | None = None
) -> IssuedSecret:
    """`secret`: only the demo seed names one (its documented demo secret); otherwise a new one."""
    secret, integration_id = secret or new_secret(), uuid4()
    async with sessions.begin() as session:
        await repository.create_integration(session, account_id, integration_id, name, secret)
        return IssuedSecret(await _one(session, account_id, integration_id), secret)


async def rotate_secret(
    sessions: async_sessionmaker[AsyncSession], account_id: UUID, integration_id: UUID, overlap: timedelta
) -> IssuedSecret:
    # Raises ValueError for an overlap out of bounds, before anything is written.
    retired_secret_valid_until(datetime.now(UTC), overlap)
    secret = new_secret()
    async with sessions.begin() as session:
        row = await repository.lock_integration(session, account_id, integration_id)
        if row is None:
            raise IntegrationNotFound(integration_id)
        if row.revoked_at is not None:
            raise IntegrationRevoked(integration_id)
        await repository.rotate_secret(session, integration_id, secret, overlap)
        return IssuedSecret(await _one(session, account_id, integration_id), secret)


async def revoke_integration(
    sessions: async_sessionmaker[AsyncSession], account_id: UUID, integration_id: UUID
) -> IntegrationRow:
    """Idempotent: revoking a revoked integration changes nothing."""
    async with sessions.begin() as session:
        if await repository.lock_integration(session, account_id, integration_id) is None:
            raise IntegrationNotFound(integration_id)
        await repository.revoke_integration(session, integration_id)
        return await _one(session, account_id, integration_id)


async def list_integrations(
    sessions: async_sessionmaker[AsyncSession], account_id: UUID
) -> list[IntegrationRow]:
    async with sessions() as session:
        return await repository.integrations(session, account_id)


async def get_integration(
    sessions: async_sessionmaker[AsyncSession], account_id: UUID, integration_id: UUID
) -> IntegrationRow:
    async with sessions() as session:
        return await _one(session, account_id, integration_id)
