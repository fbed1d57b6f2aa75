"""SuspendedAccounts: a set lookup per request, re-read at most every few seconds, at once after
`forget`, the last known set kept through a failed read (and 503 when none was ever read)."""

from uuid import uuid4

import pytest

from shared.http.errors import ApiError
from shared.http.suspension import SuspendedAccounts


async def test_the_set_is_read_again_only_when_stale_or_forgotten():
    account, now, reads = uuid4(), [0.0], []
    stored: set = set()

    async def load() -> set:
        reads.append(now[0])
        return set(stored)

    suspended = SuspendedAccounts(load, refresh_seconds=2, clock=lambda: now[0])
    assert not await suspended.contains(account)
    stored.add(account)
    assert not await suspended.contains(account)  # fresh for 2 s: no read
    now[0] = 2.0
    assert await suspended.contains(account)
    stored.clear()
    suspended.forget()
    assert not await suspended.contains(account)
    assert reads == [0.0, 2.0, 2.0]


async def test_a_failed_read_keeps_the_last_known_set_and_refuses_when_there_is_none():
    account, now, failing = uuid4(), [0.0], [True]

    async def load() -> set:
        if failing[0]:
            raise ConnectionError("database down")
        return {account}

    suspended = SuspendedAccounts(load, refresh_seconds=1, clock=lambda: now[0])
    with pytest.raises(ApiError) as refused:
        await suspended.contains(account)
    assert refused.value.status == 503
    failing[0] = False
    now[0] = 1.0
    assert await suspended.contains(account)
    failing[0] = True
    now[0] = 2.0
    assert await suspended.contains(account)
