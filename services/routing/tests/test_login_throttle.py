"""Sign-in throttling (routing/auth/throttle.py): guessing one person's password from one
address meets doubling waits after a few failures; a guess spread over addresses meets the
per-e-mail ceiling, trying many people from one address the per-address ceiling; both end with
their short window, and the real person signing in from elsewhere is not kept out by one
attacker's address. Each test signs in from addresses of its own (documentation ranges), so no
other test's sign-ins from 127.0.0.1 are slowed."""

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from routing.app import api_routers
from routing.auth.throttle import FailureCount, ThrottlePolicy, seconds_to_wait
from routing.settings import RoutingSettings
from shared.http.errors import install_error_handlers

from .conftest import PASSWORD

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
POLICY = ThrottlePolicy(free_failures=5, account_ceiling=50, address_ceiling=100, window_seconds=900)


def count(failures: int, started_ago: float = 60, last_ago: float = 0) -> FailureCount:
    return FailureCount(failures, NOW - timedelta(seconds=started_ago), NOW - timedelta(seconds=last_ago))


def test_a_few_failures_are_free_then_each_one_doubles_the_wait_up_to_the_window():
    assert seconds_to_wait(POLICY, {}, NOW) == 0
    assert seconds_to_wait(POLICY, {"pair": count(4)}, NOW) == 0
    assert [seconds_to_wait(POLICY, {"pair": count(n)}, NOW) for n in (5, 6, 7, 8)] == [1, 2, 4, 8]
    assert seconds_to_wait(POLICY, {"pair": count(40)}, NOW) == 900
    # The wait runs from the last failure.
    assert seconds_to_wait(POLICY, {"pair": count(8, last_ago=5)}, NOW) == 3
    assert seconds_to_wait(POLICY, {"pair": count(8, last_ago=9)}, NOW) == 0


def test_the_ceilings_hold_until_their_window_ends_and_an_old_window_counts_for_nothing():
    assert seconds_to_wait(POLICY, {"account": count(49)}, NOW) == 0
    assert seconds_to_wait(POLICY, {"account": count(50, started_ago=300)}, NOW) == 600
    assert seconds_to_wait(POLICY, {"address": count(100, started_ago=899)}, NOW) == 1
    assert seconds_to_wait(POLICY, {"address": count(500, started_ago=900)}, NOW) == 0
    assert seconds_to_wait(POLICY, {"pair": count(40, started_ago=901)}, NOW) == 0


@asynccontextmanager
async def signing_in(app: FastAPI, address: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://routing") as http:
        yield http


async def sign_in(app: FastAPI, address: str, email: str, password: str) -> httpx.Response:
    async with signing_in(app, address) as http:
        return await http.post("/api/v1/auth/login", json={"email": email, "password": password})


def address() -> str:
    """An address of the benchmarking range, new to the throttle."""
    return f"198.18.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"


async def test_guessing_from_one_address_slows_down_and_the_real_person_elsewhere_signs_in(app, dealer):
    email = f"alex.{await _tag_of(dealer)}@dealer.test"
    attacker, office = address(), address()
    for _ in range(5):
        wrong = await sign_in(app, attacker, email, "not-the-password")
        assert wrong.status_code == 401, wrong.text
    refused = await sign_in(app, attacker, email, PASSWORD)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_attempts"
    assert refused.headers["retry-after"] == "1"
    assert refused.json()["error"]["details"] == {"retry_after_seconds": 1}
    # The person at the dealership is not kept out by the attacker's address.
    assert (await sign_in(app, office, email, PASSWORD)).status_code == 200
    # The wait passes; the right password then works and forgets the failures.
    await asyncio.sleep(1.1)
    assert (await sign_in(app, attacker, email, PASSWORD)).status_code == 200
    assert (await sign_in(app, attacker, email, "wrong-again")).status_code == 401


async def test_an_unknown_email_is_throttled_like_a_real_one(app):
    attacker = address()
    email = f"nobody.{secrets.token_hex(3)}@nowhere.test"
    answers = [(await sign_in(app, attacker, email, "guess")).status_code for _ in range(6)]
    assert answers == [401] * 5 + [429]


async def test_the_ceilings_stop_spread_guessing_and_end_with_their_window(sessions, dealer):
    settings = RoutingSettings(
        database_url=dealer.settings.database_url,
        login_free_failures=100,
        login_account_ceiling=4,
        login_address_ceiling=6,
        login_window_seconds=5,
    )
    app = FastAPI()
    install_error_handlers(app)
    for router in api_routers(settings, sessions):
        app.include_router(router)
    email = f"sam.{await _tag_of(dealer)}@dealer.test"
    # Four addresses, one failure each: the fifth try, from anywhere, waits for the window.
    for _ in range(4):
        assert (await sign_in(app, address(), email, "guess")).status_code == 401
    blocked = await sign_in(app, address(), email, PASSWORD)
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) <= 5
    # One address trying many people stops at its own ceiling.
    stuffer = address()
    for _ in range(6):
        other = f"someone.{secrets.token_hex(3)}@dealer.test"
        assert (await sign_in(app, stuffer, other, "Password1")).status_code == 401
    assert (await sign_in(app, stuffer, f"x{secrets.token_hex(2)}@dealer.test", "p")).status_code == 429
    # A short window: the real person is back in after it, from any address.
    await asyncio.sleep(5.1)
    assert (await sign_in(app, address(), email, PASSWORD)).status_code == 200
    assert (await sign_in(app, stuffer, email, PASSWORD)).status_code == 200
    async with sessions() as session:
        kept = await session.scalar(
            text("SELECT count(*) FROM routing.login_failures WHERE key LIKE :k"), {"k": f"%{email}%"}
        )
    assert kept >= 1  # the per-e-mail count stays until it is old; the pair was forgotten on success


async def _tag_of(dealer) -> str:
    async with dealer.sessions() as session:
        email = await session.scalar(
            text("SELECT email FROM routing.users WHERE id = :id"), {"id": dealer.admin_id}
        )
    return email.split("@")[0].split(".", 1)[1]
