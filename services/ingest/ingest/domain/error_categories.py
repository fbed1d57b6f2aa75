"""Carrier error codes in the plain categories staff understand
(shared.contracts.messaging.ErrorCategory). The carrier's own code always travels beside the
category, so a code missing here is never lost: it reads `unknown` until someone adds it.

Twilio (https://www.twilio.com/docs/api/errors):

| code          | meaning                                             | category          |
| ------------- | --------------------------------------------------- | ----------------- |
| 30003         | unreachable destination handset                     | unreachable       |
| 30005         | unknown destination handset (number not in service) | wrong_number      |
| 30006         | landline or unreachable carrier                     | landline          |
| 30004         | message blocked (by the recipient or their carrier) | carrier_filtered  |
| 30007, 30034  | filtered as spam / unregistered A2P 10DLC           | carrier_filtered  |
| 21610         | recipient replied STOP                              | opted_out         |
| 21211, 21614  | 'To' not a valid (mobile) number                    | wrong_number      |
| 30008         | unknown error                                       | unknown           |
| 429, 20429,   | too many requests / queue overflow                  | rate_limited      |
| 30001, 14107  |                                                     |                   |

21614 says "likely a landline or an invalid number": we say wrong_number, because marking a
number a landline blocks the composer and Twilio itself is not sure.

Telnyx (https://developers.telnyx.com/docs/messaging/messages/error-codes):

| code          | meaning                                             | category          |
| ------------- | --------------------------------------------------- | ----------------- |
| 40001         | not routable: landline or non-routable number       | landline          |
| 40002, 40003  | blocked as spam (temporary / permanent)             | carrier_filtered  |
| 40004         | rejected by destination, reason unknown             | unknown           |
| 40005         | message expired before delivery                     | unreachable       |
| 40006         | recipient's carrier unavailable                     | unreachable       |
| 40008         | undeliverable                                       | unreachable       |
| 40011         | rate limit (too many messages)                      | rate_limited      |
| 40300         | blocked due to STOP message                         | opted_out         |
| 10011         | API: too many requests                              | rate_limited      |
| 10002, 10016  | API: invalid phone number / not E.164               | wrong_number      |
"""

from typing import get_args

from shared.contracts.messaging import ErrorCategory

TWILIO: dict[str, ErrorCategory] = {
    "30003": "unreachable",
    "30005": "wrong_number",
    "30006": "landline",
    "30004": "carrier_filtered",
    "30007": "carrier_filtered",
    "30034": "carrier_filtered",
    "21610": "opted_out",
    "21211": "wrong_number",
    "21614": "wrong_number",
    "30008": "unknown",
    "429": "rate_limited",
    "20429": "rate_limited",
    "30001": "rate_limited",
    "14107": "rate_limited",
}

TELNYX: dict[str, ErrorCategory] = {
    "40001": "landline",
    "40002": "carrier_filtered",
    "40003": "carrier_filtered",
    "40004": "unknown",
    "40005": "unreachable",
    "40006": "unreachable",
    "40008": "unreachable",
    "40011": "rate_limited",
    "40300": "opted_out",
    "10011": "rate_limited",
    "10002": "wrong_number",
    "10016": "wrong_number",
}

CATEGORIES: frozenset[str] = frozenset(get_args(ErrorCategory))


def category_for(table: dict[str, ErrorCategory], code: str | None) -> ErrorCategory | None:
    """None when there is no error code; `unknown` for a code we have not mapped."""
    if code is None or not code.strip():
        return None
    return table.get(code.strip(), "unknown")
