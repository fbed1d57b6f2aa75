"""What the simulator is told (SimulatorConfig, changed at run time by POST /simulate/config) and
what it keeps (SimulatorState): every send request it received, the messages each carrier would
list, Telnyx's idempotent answers, and the one-time behaviours already spent."""

import time
from dataclasses import dataclass, field

from devtools import demo
from devtools.carrier_simulator.callbacks import CallbackSender


@dataclass
class SendRequest:
    """What a send request asked for, whichever carrier received it."""

    from_number: str
    to_number: str
    body: str
    media_urls: list[str]
    idempotency_key: str | None
    callback_url: str | None


@dataclass
class SentRecord:
    carrier: str
    id: str | None
    from_number: str
    to_number: str
    body: str
    media_urls: list[str]
    received_at: float
    http_status: int
    error_code: str | None
    idempotency_key: str | None
    callback_url: str | None


@dataclass
class SimulatorConfig:
    callback_delay_seconds: float = 1.0
    callbacks_enabled: bool = True
    # Apply to every accepted text, on top of the numbers that ask for it (failures.py).
    duplicate_callbacks: bool = False
    out_of_order_callbacks: bool = False
    slow_seconds: float = 15.0
    # A carrier outage (chaos runs): every send is answered this HTTP status (429 or 5xx) while
    # it is set; 0 sends normally (outage.py).
    send_failure_status: int = 0
    # None accepts any non-empty credentials.
    twilio_auth_tokens: dict[str, str] | None = None
    telnyx_api_keys: set[str] | None = None
    # Messaging profiles GET /v2/messaging_profiles/{id} knows; None knows every id.
    telnyx_messaging_profiles: set[str] | None = None
    telnyx_private_key: str = demo.TELNYX_PRIVATE_KEY


@dataclass
class SimulatorState:
    config: SimulatorConfig = field(default_factory=SimulatorConfig)
    sent: list[SentRecord] = field(default_factory=list)
    answers: dict[tuple[str, str], tuple[int, dict]] = field(default_factory=dict)
    # Every message Twilio accepted or received, per account sid, oldest first (list_api.py).
    twilio_messages: dict[str, list[dict]] = field(default_factory=dict)
    # Every message Telnyx accepted or received, by id (detail records, GET /v2/messages/{id}).
    telnyx_messages: dict[str, dict] = field(default_factory=dict)
    # The next reads of the list APIs answer these HTTP statuses, one each; then they work.
    read_failures: list[int] = field(default_factory=list)
    # AccountSids and API keys the carriers now refuse (401), as after a revocation.
    revoked: set[str] = field(default_factory=set)
    tripped: set[tuple[str, str, str]] = field(default_factory=set)
    callbacks: CallbackSender = field(default_factory=CallbackSender)

    def first_time(self, carrier: str, to_number: str, what: str) -> bool:
        key = (carrier, to_number, what)
        if key in self.tripped:
            return False
        self.tripped.add(key)
        return True

    def record_send(
        self, carrier: str, request: SendRequest, *, id: str | None, http_status: int, error_code: str | None
    ) -> None:
        self.sent.append(
            SentRecord(
                carrier=carrier,
                id=id,
                received_at=time.time(),
                http_status=http_status,
                error_code=error_code,
                **vars(request),
            )
        )
