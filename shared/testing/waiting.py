"""Waiting for something another process does (a consumer applying an event, a projection)."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(check: Callable[[], Awaitable[T]], timeout: float = 30.0, interval: float = 0.1) -> T:
    """The first truthy value of `await check()`, or the last falsy one after `timeout`, so the
    test's own assertion says what was missing."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(interval)
