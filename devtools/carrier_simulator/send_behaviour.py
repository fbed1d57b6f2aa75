"""What both send APIs do with a text beyond answering it, chosen by the outage switch and the
destination number (failures.py): refuse it, arrange its callbacks, answer late, or drop the
connection after accepting it."""

import asyncio

from fastapi.responses import StreamingResponse

from devtools.carrier_simulator.callbacks import arrange
from devtools.carrier_simulator.failures import Behaviour, SendError
from devtools.carrier_simulator.outage import outage_error
from devtools.carrier_simulator.state import SimulatorState


def planned_error(
    state: SimulatorState, carrier: str, to_number: str, behaviour: Behaviour
) -> SendError | None:
    if state.config.send_failure_status:
        return outage_error(carrier, state.config.send_failure_status)
    error = behaviour.send_error
    if error is None:
        return None
    if behaviour.once and not state.first_time(carrier, to_number, "send_error"):
        return None
    return error


def arranged(state: SimulatorState, callbacks: list, behaviour: Behaviour) -> list:
    return arrange(
        callbacks,
        duplicate=state.config.duplicate_callbacks or behaviour.duplicate_callbacks,
        out_of_order=state.config.out_of_order_callbacks or behaviour.out_of_order_callbacks,
    )


async def maybe_slow(state: SimulatorState, carrier: str, to_number: str, behaviour: Behaviour) -> None:
    """Accepted, but the answer is late (the client may time out)."""
    if behaviour.slow_once and state.first_time(carrier, to_number, "slow"):
        await asyncio.sleep(state.config.slow_seconds)


def drops_now(state: SimulatorState, carrier: str, to_number: str, behaviour: Behaviour) -> bool:
    return behaviour.drop_once and state.first_time(carrier, to_number, "drop")


def dropped(status: int) -> StreamingResponse:
    """The answer starts, then the connection is closed mid-body: the client cannot tell whether
    the text was accepted."""

    async def cut_short():
        yield b'{"status": "queued", '
        raise ConnectionAbortedError("simulated: connection dropped after the text was accepted")

    return StreamingResponse(cut_short(), status_code=status, media_type="application/json")
