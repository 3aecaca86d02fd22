"""Console sign-in accounts: agents, their password hashes and the lock-out after failed sign-ins."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.tables import Agent, table_of


async def account(session: AsyncSession, email: str) -> Agent | None:
    """The active agent with that e-mail address (case-insensitive)."""
    return await session.scalar(
        select(Agent).where(func.lower(Agent.email) == email.strip().lower(), Agent.active.is_(True))
    )


async def record_failed_login(
    session: AsyncSession, agent_id: int, max_failures: int, lock_for: timedelta, now: datetime
) -> datetime | None:
    """Count a failed sign-in; at ``max_failures`` lock the account. Returns the lock's end, if locked now."""
    failures = await session.scalar(
        update(table_of(Agent))
        .where(table_of(Agent).c.id == agent_id)
        .values(failed_logins=table_of(Agent).c.failed_logins + 1)
        .returning(table_of(Agent).c.failed_logins)
    )
    if failures is None or failures < max_failures:
        return None
    until = now + lock_for
    await session.execute(
        update(table_of(Agent))
        .where(table_of(Agent).c.id == agent_id)
        .values(failed_logins=0, locked_until=until)
    )
    return until


async def record_login(session: AsyncSession, agent_id: int, new_hash: str | None = None) -> None:
    """A successful sign-in clears the failure count and the lock (and stores a rehashed password)."""
    values: dict[str, Any] = {"failed_logins": 0, "locked_until": None}
    if new_hash is not None:
        values["password_hash"] = new_hash
    await session.execute(update(table_of(Agent)).where(table_of(Agent).c.id == agent_id).values(**values))


async def save_agent(
    session: AsyncSession, email: str, display_name: str | None, password_hash: str, role: str, now: datetime
) -> bool:
    """Create an agent, or update the password and role of an existing one (reactivated, unlocked).

    ``display_name`` ``None`` keeps an existing agent's name (a new one is named after the address).

    Returns:
        Whether the agent was created.

    """
    existing = await session.scalar(select(Agent).where(func.lower(Agent.email) == email.strip().lower()))
    if existing is not None:
        existing.password_hash = password_hash
        existing.role = role
        if display_name:
            existing.display_name = display_name
        existing.active = True
        existing.failed_logins = 0
        existing.locked_until = None
        return False
    session.add(
        Agent(
            email=email.strip(),
            display_name=display_name or email.strip().split("@", 1)[0],
            password_hash=password_hash,
            role=role,
            active=True,
            failed_logins=0,
            created_at=now,
        )
    )
    return True


async def agents(session: AsyncSession, *, active_only: bool = False) -> Sequence[Agent]:
    """Every agent, by e-mail address."""
    query = select(Agent).order_by(Agent.email)
    if active_only:
        query = query.where(Agent.active.is_(True))
    return (await session.scalars(query)).all()


async def has_sign_in(session: AsyncSession) -> bool:
    """Whether any active agent can sign in (has a password)."""
    query = select(Agent.id).where(Agent.active.is_(True), Agent.password_hash.is_not(None)).limit(1)
    return await session.scalar(query) is not None
