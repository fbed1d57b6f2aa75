"""What the simulator does with a text, chosen by the last four digits of the destination number.

| ends | outcome                          | Twilio                         | Telnyx                          |
|------|----------------------------------|--------------------------------|---------------------------------|
| 0001 | landline                         | 400, 21614 at send             | accepted; delivery_failed 40001 |
| 0002 | wrong number                     | 400, 21211 at send             | 400, 10002 at send              |
| 0003 | number cancelled / unreachable   | accepted; undelivered 30003    | accepted; delivery_failed 40008 |
| 0004 | filtered by the carrier          | accepted; undelivered 30007    | accepted; delivery_failed 40002 |
| 0005 | rate limited once, then accepted | 429, 20429, Retry-After: 1     | 429, 10011, Retry-After: 1      |
| 0006 | opted out                        | 400, 21610 at send             | 400, 40300 at send              |
| 0007 | server error once, then accepted | 500, 20500                     | 500, 10007                      |
| 0008 | server error every time          | 503, 20503                     | 503, 10007                      |
| 0009 | landline found at delivery       | accepted; undelivered 30006    | accepted; delivery_failed 40001 |
| 0010 | accepted, answer late once       | after `slow_seconds`           | after `slow_seconds`            |
| 0011 | every status callback twice      | delivered                      | delivered                       |
| 0012 | callbacks out of order           | final status before `sent`     | final status before `sent`      |
| 0013 | accepted, then connection drops  | once: the answer never ends    | once: the answer never ends     |
| 0014 | accepted, answer late once, and  | after `slow_seconds`; message  | after `slow_seconds`            |
|      | looking it up fails              | list answers 503, 20503        |                                 |

Anything else is accepted and delivered. "Once" is per carrier and destination number.
Twilio ignores `Idempotency-Key` (as the real API does); Telnyx replays the first answer to it."""

from dataclasses import dataclass


@dataclass(frozen=True)
class SendError:
    http_status: int
    code: str
    message: str


@dataclass(frozen=True)
class Behaviour:
    send_error: SendError | None = None
    # The failure happens on the first request for this destination only.
    once: bool = False
    delivery_error: SendError | None = None
    slow_once: bool = False
    # Accepted and recorded, then the connection is closed before the answer is complete.
    drop_once: bool = False
    # Twilio's message list answers 503 for this destination.
    lookup_fails: bool = False
    duplicate_callbacks: bool = False
    out_of_order_callbacks: bool = False


def _e(status: int, code: str, message: str) -> SendError:
    return SendError(status, code, message)


_TWILIO: dict[str, Behaviour] = {
    "0001": Behaviour(send_error=_e(400, "21614", "'To' number is not a valid mobile number")),
    "0002": Behaviour(send_error=_e(400, "21211", "Invalid 'To' Phone Number")),
    "0003": Behaviour(delivery_error=_e(200, "30003", "Unreachable destination handset")),
    "0004": Behaviour(delivery_error=_e(200, "30007", "Message filtered")),
    "0005": Behaviour(send_error=_e(429, "20429", "Too Many Requests"), once=True),
    "0006": Behaviour(send_error=_e(400, "21610", "Attempt to send to unsubscribed recipient")),
    "0007": Behaviour(send_error=_e(500, "20500", "Internal Server Error"), once=True),
    "0008": Behaviour(send_error=_e(503, "20503", "Service Unavailable")),
    "0009": Behaviour(delivery_error=_e(200, "30006", "Landline or unreachable carrier")),
}

_TELNYX: dict[str, Behaviour] = {
    "0001": Behaviour(delivery_error=_e(200, "40001", "Not routable")),
    "0002": Behaviour(send_error=_e(400, "10002", "Invalid phone number")),
    "0003": Behaviour(delivery_error=_e(200, "40008", "Undeliverable")),
    "0004": Behaviour(delivery_error=_e(200, "40002", "Blocked as spam - temporary")),
    "0005": Behaviour(send_error=_e(429, "10011", "Too many requests"), once=True),
    "0006": Behaviour(send_error=_e(400, "40300", "Blocked due to STOP message")),
    "0007": Behaviour(send_error=_e(500, "10007", "Unexpected error"), once=True),
    "0008": Behaviour(send_error=_e(503, "10007", "Unexpected error")),
    "0009": Behaviour(delivery_error=_e(200, "40001", "Not routable")),
}

_COMMON: dict[str, Behaviour] = {
    "0010": Behaviour(slow_once=True),
    "0011": Behaviour(duplicate_callbacks=True),
    "0012": Behaviour(out_of_order_callbacks=True),
    "0013": Behaviour(drop_once=True),
    "0014": Behaviour(slow_once=True, lookup_fails=True),
}


def behaviour_for(carrier: str, to_number: str) -> Behaviour:
    suffix = to_number[-4:]
    table = _TWILIO if carrier == "twilio" else _TELNYX
    return table.get(suffix) or _COMMON.get(suffix) or Behaviour()
