"""Carrier error codes → the plain categories staff see. The carrier's code always travels beside
the category, so nothing is lost by the mapping.

Twilio (https://www.twilio.com/docs/api/errors): send-time (REST API 4xx) and delivery-time
(status callback `ErrorCode`) codes.

| code  | meaning                                   | category          | retry |
|-------|-------------------------------------------|-------------------|-------|
| 21211 | invalid 'To' phone number                 | wrong_number      | no    |
| 21614 | 'To' is not a valid mobile number         | landline          | no    |
| 21635 | 'To' cannot be a landline                 | landline          | no    |
| 21610 | recipient unsubscribed (replied STOP)     | opted_out         | no    |
| 21612 | 'To' is not currently reachable           | unreachable       | no    |
| 20429 | too many requests                         | rate_limited      | yes   |
| 30003 | unreachable destination handset           | unreachable       | no    |
| 30005 | unknown destination handset               | wrong_number      | no    |
| 30006 | landline or unreachable carrier           | landline          | no    |
| 30007 | message filtered by the carrier           | carrier_filtered  | no    |
| 30004 | message blocked                           | carrier_filtered  | no    |
| 30008 | unknown error                             | unknown           | no    |

Telnyx (https://developers.telnyx.com/docs/messaging/messages/error-codes and
https://developers.telnyx.com/development/api-fundamentals/api-errors): 1xxxx are API request
errors returned at once, 40xxx delivery errors reported in `message.finalized` webhooks (some also
returned at send time).

| code  | meaning                                   | category          | retry |
|-------|-------------------------------------------|-------------------|-------|
| 10001 | inactive phone number                     | unreachable       | no    |
| 10002 | invalid phone number                      | wrong_number      | no    |
| 10016 | phone number must be in +E.164 format     | wrong_number      | no    |
| 10007 | unexpected error                          | unknown           | yes   |
| 10008 | request timeout                           | unknown           | yes   |
| 10011 | too many requests                         | rate_limited      | yes   |
| 40001 | not routable (landline or non-routable)   | landline          | no    |
| 40002 | blocked as spam (temporary)               | carrier_filtered  | no    |
| 40003 | blocked as spam (permanent)               | carrier_filtered  | no    |
| 40004 | rejected by destination                   | unknown           | no    |
| 40006 | recipient server unavailable              | unreachable       | no    |
| 40008 | undeliverable                             | unreachable       | no    |
| 40009 | invalid message body                      | carrier_filtered  | no    |
| 40011 | upstream rate limit exceeded              | rate_limited      | yes   |
| 40012 | invalid destination number                | wrong_number      | no    |
| 40015 | Telnyx internal spam filter               | carrier_filtered  | no    |
| 40300 | blocked due to STOP message (opted out)   | opted_out         | no    |

Anything else is `unknown`: not retried when it is a 4xx answer, retried when it is a 5xx.
"""

from notifier.outbound.carriers.base import CarrierErrorInfo

_I = CarrierErrorInfo

TWILIO_CODES: dict[str, CarrierErrorInfo] = {
    "21211": _I("wrong_number"),
    "21614": _I("landline"),
    "21635": _I("landline"),
    "21610": _I("opted_out"),
    "21612": _I("unreachable"),
    "20429": _I("rate_limited", retryable=True),
    "30003": _I("unreachable"),
    "30004": _I("carrier_filtered"),
    "30005": _I("wrong_number"),
    "30006": _I("landline"),
    "30007": _I("carrier_filtered"),
    "30008": _I("unknown"),
}

TELNYX_CODES: dict[str, CarrierErrorInfo] = {
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
    "40006": _I("unreachable"),
    "40008": _I("unreachable"),
    "40009": _I("carrier_filtered"),
    "40011": _I("rate_limited", retryable=True),
    "40012": _I("wrong_number"),
    "40015": _I("carrier_filtered"),
    "40300": _I("opted_out"),
}

_TABLES = {"twilio": TWILIO_CODES, "telnyx": TELNYX_CODES}


def classify(carrier: str, code: str | None, http_status: int | None = None) -> CarrierErrorInfo:
    """The category of a carrier error; HTTP 429 and 5xx are temporary whatever the code says."""
    known = _TABLES.get(carrier, {}).get(str(code)) if code is not None else None
    if http_status == 429:
        return _I("rate_limited", retryable=True)
    if known is not None:
        return known
    return _I("unknown", retryable=http_status is not None and http_status >= 500)
