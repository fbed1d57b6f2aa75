"""A dealership number added or removed in routing (`phone_number.changed.v1`): ingest's map of
which account receives on which Telnyx number follows it, so a number an admin adds receives its
webhooks without anyone touching ingest. Idempotent on the event id; the changes of one number
arrive in order (the topic is keyed by the number).

Every number, of either carrier, is also listed by catch-up (`catch_up_numbers`), which asks the
carrier for the texts sent to it. Twilio's webhooks need nothing more: they name the Twilio
account (AccountSid), not the number.
A Telnyx number is recorded even while its account has no Telnyx public key (its webhooks stay
refused, logged as a warning): when an admin sets the key later (`PUT
/api/v1/carrier-webhook-credentials/telnyx`), the numbers routing already announced verify with it."""

from enum import Enum

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from ingest import catch_up_repository, number_repository
from shared.contracts.phone_numbers import PhoneNumberChanged
from shared.db.idempotency import claim_event

log = structlog.get_logger(__name__)
CONSUMER = "ingest.phone_numbers"


class NumberOutcome(Enum):
    REGISTERED = "registered"
    FORGOTTEN = "forgotten"
    UNCHANGED = "unchanged"  # a duplicate, a Twilio number, or nothing of this account's to forget
    NO_KEY = "no_key"  # recorded, but refused until the account's Telnyx key is set


async def apply_number_change(session: AsyncSession, event: PhoneNumberChanged) -> NumberOutcome:
    if not await claim_event(session, "ingest", CONSUMER, event.event_id):
        return NumberOutcome.UNCHANGED
    account_id, e164 = event.account_id, event.e164
    if event.change == "removed":
        await catch_up_repository.forget_number(session, account_id, e164)
    else:
        await catch_up_repository.register_number(session, account_id, e164, event.carrier)
    if event.change == "removed" or event.carrier != "telnyx":
        # A number now with another carrier is no longer a Telnyx number of this account.
        forgotten = await number_repository.forget_telnyx_number(session, account_id, e164)
        return NumberOutcome.FORGOTTEN if forgotten else NumberOutcome.UNCHANGED
    await number_repository.register_telnyx_number(session, account_id, e164)
    if not await number_repository.has_telnyx_key(session, account_id):
        log.warning(
            "telnyx number of an account without a Telnyx public key; its webhooks are refused"
            " until an admin sets the key",
            account_id=str(account_id),
            e164=e164,
        )
        return NumberOutcome.NO_KEY
    log.info("telnyx number registered", account_id=str(account_id), e164=e164)
    return NumberOutcome.REGISTERED
