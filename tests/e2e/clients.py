"""Small clients the end-to-end tests use: log in, read a server-sent-events stream."""

import httpx

from shared.testing.sse import SseEvent, SseStream

__all__ = ["SseEvent", "SseStream", "login"]


async def login(client: httpx.AsyncClient, routing_url: str, email: str, password: str) -> str:
    response = await client.post(
        f"{routing_url}/api/v1/auth/login", json={"email": email, "password": password}
    )
    response.raise_for_status()
    return response.json()["access_token"]
