"""A stand-in for routing's `GET /api/v1/users/{id}`, for the suites of services that check staff
tokens against routing (shared/http/staff.py) without running routing: every user is an active
agent unless a test registers them otherwise; `down` makes it answer 503."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from uuid import UUID

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from shared.testing.http_server import serving
from shared.testing.ports import free_port


@dataclass
class StaffDirectory:
    port: int = field(default_factory=free_port)
    users: dict[UUID, dict] = field(default_factory=dict)
    down: bool = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/api/v1/users/{user_id}")
        async def user(user_id: UUID):
            if self.down:
                return JSONResponse({"error": {"code": "unavailable"}}, status_code=503)
            found = self.users.get(user_id, {"role": "agent", "active": True})
            return {"id": str(user_id), "name": "Staff", "email": "s@example.test", **found}

        return app

    @asynccontextmanager
    async def serving(self) -> AsyncIterator["StaffDirectory"]:
        """Answers on its port (real HTTP) while the block runs."""
        async with serving(self.app(), self.port):
            yield self
