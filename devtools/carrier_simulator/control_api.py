"""The simulator's own controls for tests and chaos runs: GET /simulate/sent lists every send
request received (to count texts and measure their spacing), DELETE forgets them, and POST
/simulate/config changes callbacks, slowness, the outage switch (outage.py), read failures and
revoked credentials at run time."""

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, field_validator

from devtools.carrier_simulator.outage import OUTAGE_STATUSES
from devtools.carrier_simulator.state import SimulatorState


class ConfigUpdate(BaseModel):
    callback_delay_seconds: float | None = Field(default=None, ge=0, le=600)
    # Not SimulatorConfig fields: they live on the state (see list_api.py).
    read_failures: list[int] | None = Field(default=None, description="HTTP statuses for the next reads")
    revoked_credentials: list[str] | None = Field(default=None, description="AccountSids / API keys refused")
    callbacks_enabled: bool | None = None
    duplicate_callbacks: bool | None = None
    out_of_order_callbacks: bool | None = None
    slow_seconds: float | None = Field(default=None, ge=0, le=600)
    send_failure_status: int | None = Field(
        default=None, description="Answer every send with this status (429, 500, 503); 0 ends it"
    )

    @field_validator("send_failure_status")
    @classmethod
    def _a_failure(cls, value: int | None) -> int | None:
        if value is not None and value not in OUTAGE_STATUSES:
            raise ValueError("0, 429, 500, 502 or 503")
        return value


def control_router(state: SimulatorState) -> APIRouter:
    router = APIRouter(tags=["simulate"])

    @router.get("/simulate/sent", summary="What the simulator received, oldest first")
    async def sent(
        to: Annotated[str | None, Query(description="Only texts to this number")] = None,
        from_: Annotated[str | None, Query(alias="from", description="Only texts from this number")] = None,
        carrier: Annotated[str | None, Query()] = None,
    ) -> list[dict]:
        return [
            asdict(r)
            for r in state.sent
            if (to is None or r.to_number == to)
            and (from_ is None or r.from_number == from_)
            and (carrier is None or r.carrier == carrier)
        ]

    @router.delete("/simulate/sent", summary="Forget what was received", status_code=204)
    async def forget() -> None:
        state.sent.clear()

    @router.post("/simulate/config", summary="Change callback delay, duplicates, ordering")
    async def configure(update: ConfigUpdate) -> dict:
        for name, value in update.model_dump(exclude_none=True).items():
            if name == "read_failures":
                state.read_failures[:] = value
            elif name == "revoked_credentials":
                state.revoked = set(value)
            else:
                setattr(state.config, name, value)
        return {
            "callback_delay_seconds": state.config.callback_delay_seconds,
            "callbacks_enabled": state.config.callbacks_enabled,
            "duplicate_callbacks": state.config.duplicate_callbacks,
            "out_of_order_callbacks": state.config.out_of_order_callbacks,
            "slow_seconds": state.config.slow_seconds,
            "send_failure_status": state.config.send_failure_status,
        }

    return router
