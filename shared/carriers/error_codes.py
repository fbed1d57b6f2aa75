"""Carrier error codes → the plain categories staff see (shared.contracts.messaging.ErrorCategory)
and whether trying again may help. The carrier's code always travels beside the category, so a
code missing here is never lost: it reads `unknown` until someone adds it.

Twilio (https://www.twilio.com/docs/api/errors): REST API answers at send time (2xxxx) and
`ErrorCode` in status callbacks (3xxxx).

| code                 | meaning                                        | category         | retry |
|----------------------|------------------------------------------------|------------------|-------|
| 21211                | invalid 'To' phone number                      | wrong_number     | no    |
| 21614, 21635         | 'To' is not a mobile number / is a landline    | landline         | no    |
| 21610                | recipient replied STOP                         | opted_out        | no    |
| 21612                | 'To' is not currently reachable                | unreachable      | no    |
| 429, 20429           | too many requests                              | rate_limited     | yes   |
| 30001, 14107         | queue overflow / rate limit                    | rate_limited     | yes   |
| 30003                | unreachable destination handset                | unreachable      | no    |
| 30004                | message blocked                                | carrier_filtered | no    |
| 30005                | unknown destination handset (not in service)   | wrong_number     | no    |
| 30006                | landline or unreachable carrier                | landline         | no    |
| 30007, 30034         | filtered as spam / unregistered A2P 10DLC      | carrier_filtered | no    |
| 30008                | unknown error                                  | unknown          | no    |

21614 says "likely a landline or an invalid number": it reads landline, which blocks the composer
for that number until staff say otherwise (PATCH the number's kind) — better than texting it
again and again.

Telnyx (https://developers.telnyx.com/docs/messaging/messages/error-codes): 1xxxx are API request
errors answered at once, 40xxx delivery errors in `message.finalized` (some also at send time).

| code          | meaning                                       | category         | retry |
|---------------|-----------------------------------------------|------------------|-------|
| 10001         | inactive phone number                         | unreachable      | no    |
| 10002, 10016  | invalid phone number / not E.164              | wrong_number     | no    |
| 10007, 10008  | unexpected error / request timeout            | unknown          | yes   |
| 10011         | too many requests                             | rate_limited     | yes   |
| 40001         | not routable (landline or non-routable)       | landline         | no    |
| 40002, 40003  | blocked as spam (temporary / permanent)       | carrier_filtered | no    |
| 40004         | rejected by destination, reason unknown       | unknown          | no    |
| 40005         | expired before delivery                       | unreachable      | no    |
| 40006         | recipient's carrier unavailable               | unreachable      | no    |
| 40008         | undeliverable                                 | unreachable      | no    |
| 40009, 40015  | invalid body / Telnyx spam filter             | carrier_filtered | no    |
| 40011         | upstream rate limit                           | rate_limited     | yes   |
| 40012         | invalid destination number                    | wrong_number     | no    |
| 40300         | blocked due to STOP (opted out)               | opted_out        | no    |
"""

from dataclasses import dataclass
from typing import get_args

from shared.contracts.messaging import ErrorCategory


@dataclass(frozen=True)
class CarrierErrorInfo:
    """What a carrier's own error code means to us."""

    category: ErrorCategory
    retryable: bool = False


_I = CarrierErrorInfo

TWILIO: dict[str, CarrierErrorInfo] = {
    "21211": _I("wrong_number"),
    "21614": _I("landline"),
    "21635": _I("landline"),
    "21610": _I("opted_out"),
    "21612": _I("unreachable"),
    "429": _I("rate_limited", retryable=True),
    "20429": _I("rate_limited", retryable=True),
    "30001": _I("rate_limited", retryable=True),
    "14107": _I("rate_limited", retryable=True),
    "30003": _I("unreachable"),
    "30004": _I("carrier_filtered"),
    "30005": _I("wrong_number"),
    "30006": _I("landline"),
    "30007": _I("carrier_filtered"),
    "30034": _I("carrier_filtered"),
    "30008": _I("unknown"),
}

TELNYX: dict[str, CarrierErrorInfo] = {
    "10001": _I("unreachable"),
    "10002": _I("wrong_number"),
    "10016": _I("wrong_number"),
    "10007": _I("unknown", retryable=True),
    "10008": _I("unknown", retryable=True),
    "10011": _I("rate_limited", retryable=True),
    "40001": _I("landline"),
    "40002": _I("carrier_filtered"),
    "40003": _I("carrier_filtered"),
    "40004": _I("unknown"),
    "40005": _I("unreachable"),
    "40006": _I("unreachable"),
    "40008": _I("unreachable"),
    "40009": _I("carrier_filtered"),
    "40011": _I("rate_limited", retryable=True),
    "40012": _I("wrong_number"),
    "40015": _I("carrier_filtered"),
    "40300": _I("opted_out"),
}

TABLES: dict[str, dict[str, CarrierErrorInfo]] = {"twilio": TWILIO, "telnyx": TELNYX}
CATEGORIES: frozenset[str] = frozenset(get_args(ErrorCategory))


def category_for(carrier: str, code: str | None) -> ErrorCategory | None:
    """A receipt's category: None when there is no error code, `unknown` for one not mapped."""
    if code is None or not str(code).strip():
        return None
    known = TABLES.get(carrier, {}).get(str(code).strip())
    return known.category if known else "unknown"


def classify(carrier: str, code: str | None, http_status: int | None = None) -> CarrierErrorInfo:
    """A send-time error: HTTP 429 and 5xx are temporary whatever the code says."""
    if http_status == 429:
        return _I("rate_limited", retryable=True)
    known = TABLES.get(carrier, {}).get(str(code).strip()) if code is not None else None
    if known is not None:
        return known
    return _I("unknown", retryable=http_status is not None and http_status >= 500)
