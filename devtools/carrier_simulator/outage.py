"""The carrier outage switch (chaos runs): while POST /simulate/config sets `send_failure_status`,
every send is answered that HTTP status, the way each carrier answers it; 0 ends the outage."""

from devtools.carrier_simulator.failures import SendError

OUTAGE_STATUSES = (0, 429, 500, 502, 503)

# What each carrier answers in an outage; any other status is "Service Unavailable".
_OUTAGE_ANSWERS = {
    ("twilio", 429): SendError(429, "20429", "Too Many Requests"),
    ("telnyx", 429): SendError(429, "10011", "Too many requests"),
    ("twilio", 500): SendError(500, "20500", "Internal Server Error"),
    ("telnyx", 500): SendError(500, "10007", "Unexpected error"),
}


def outage_error(carrier: str, status: int) -> SendError:
    return _OUTAGE_ANSWERS.get((carrier, status)) or SendError(
        status, "20503" if carrier == "twilio" else "10007", "Service Unavailable"
    )
