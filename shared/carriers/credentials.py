"""What an admin's carrier credentials must look like, and how a stored one is shown. Ingest (which
verifies webhooks) and notifier (which sends) each store their own copy of an account's Twilio
credentials, set through their own API, so both check them by these rules. Plain code: pydantic
types for request models, no FastAPI."""

import re
from typing import Annotated

from pydantic import AfterValidator, SecretStr

# Twilio account SIDs are "AC" and 32 lowercase hex digits; its API and webhooks name it so.
TWILIO_ACCOUNT_SID = re.compile(r"^AC[0-9a-f]{32}$")
# Printable ASCII without spaces: what carriers issue; anything else is a copy-paste accident.
SECRET_CHARACTERS = re.compile(r"^[!-~]+$")
SECRET_MIN_LENGTH, SECRET_MAX_LENGTH = 16, 256
# Below this length even four characters are too large a share of the secret to show.
HINT_MIN_LENGTH = 16
HINT_MASK = "••••"


def normalize_twilio_sid(value: str) -> str:
    """The SID as Twilio writes it (hex digits in lower case); ValueError if it is not one."""
    value = value.strip()
    candidate = value[:2] + value[2:].lower()
    if not TWILIO_ACCOUNT_SID.fullmatch(candidate):
        raise ValueError("a Twilio Account SID is AC followed by 32 hexadecimal digits")
    return candidate


def check_secret(value: str) -> str:
    """The secret (auth token, API key) without surrounding whitespace; ValueError, naming no part
    of it, if it is unusable."""
    value = value.strip()
    if not SECRET_MIN_LENGTH <= len(value) <= SECRET_MAX_LENGTH:
        raise ValueError(f"must be {SECRET_MIN_LENGTH} to {SECRET_MAX_LENGTH} characters")
    if not SECRET_CHARACTERS.fullmatch(value):
        raise ValueError("must be printable ASCII without spaces")
    return value


def secret_hint(secret: str) -> str:
    """Enough for an admin to tell which secret is stored: its last four characters, masked."""
    if len(secret) < HINT_MIN_LENGTH:
        return HINT_MASK
    return f"{HINT_MASK}{secret[-4:]}"


def _checked_secret(value: SecretStr) -> SecretStr:
    return SecretStr(check_secret(value.get_secret_value()))


# Request-model field types; each model keeps its own Field(description=...) for its API's docs.
TwilioAccountSid = Annotated[str, AfterValidator(normalize_twilio_sid)]
CarrierSecret = Annotated[SecretStr, AfterValidator(_checked_secret)]

# Why a non-admin is refused by either service's credentials API.
ADMINS_ONLY = "only an admin of the dealership may change carrier credentials"
