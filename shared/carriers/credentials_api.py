"""The parts ingest's and notifier's carrier-credentials APIs have in common: their errors and the
audit log line of each change (who changed which carrier's credentials, never the secret)."""

import structlog

from shared.http.auth import Principal
from shared.http.errors import ERROR_RESPONSE_SCHEMA, ApiError

log = structlog.get_logger(__name__)

# Every endpoint: no or bad token, not an admin, routing cannot confirm the caller.
ADMIN_ENDPOINT_ERRORS = {401: ERROR_RESPONSE_SCHEMA, 403: ERROR_RESPONSE_SCHEMA, 503: ERROR_RESPONSE_SCHEMA}


def account_sid_taken(account_sid: str) -> ApiError:
    # A SID is never moved between dealerships: their webhooks and texts would follow it.
    return ApiError(
        409,
        "account_sid_taken",
        "this Twilio Account SID is set up for another dealership",
        {"account_sid": account_sid},
    )


def no_credentials(carrier: str) -> ApiError:
    return ApiError(404, "not_found", f"no {carrier} credentials are set")


def log_credentials_change(event: str, caller: Principal, carrier: str, change: str, **fields: str) -> None:
    log.info(
        event,
        carrier=carrier,
        change=change,
        account_id=str(caller.account_id),
        by_user_id=caller.subject,
        **fields,
    )
