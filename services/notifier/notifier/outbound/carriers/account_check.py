"""Does the carrier accept the stored credentials? One harmless read at the carrier, nothing sent:
Twilio `GET /2010-04-01/Accounts/{AccountSid}.json` (HTTP basic auth with the SID and auth
token), Telnyx `GET /v2/messaging_profiles/{id}` when a messaging profile is set, otherwise
`GET /v2/balance` (Bearer API key). The answer names a `code` a page can put in its own words
and an English `message`; the secret never appears in either."""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import httpx

if TYPE_CHECKING:  # credentials.py imports this module
    from notifier.outbound.credentials import CarrierCredentials

CheckCode = Literal["connected", "refused", "inactive", "profile_not_found", "unavailable", "unexpected"]


@dataclass(frozen=True)
class AccountCheck:
    ok: bool
    code: CheckCode
    message: str


async def check_account(
    client: httpx.AsyncClient, base_url: str, credentials: "CarrierCredentials", timeout: float
) -> AccountCheck:
    base = base_url.rstrip("/")
    secret = credentials.secret.get_secret_value()
    name = "Twilio" if credentials.carrier == "twilio" else "Telnyx"
    try:
        if credentials.carrier == "twilio":
            sid = credentials.account_sid or ""
            response = await client.get(
                f"{base}/2010-04-01/Accounts/{sid}.json", auth=(sid, secret), timeout=timeout
            )
        else:
            profile = credentials.messaging_profile_id
            path = f"/v2/messaging_profiles/{profile}" if profile else "/v2/balance"
            response = await client.get(
                base + path, headers={"authorization": f"Bearer {secret}"}, timeout=timeout
            )
    except httpx.HTTPError as exc:
        return AccountCheck(False, "unavailable", f"{name} could not be reached ({type(exc).__name__})")
    return _verdict(credentials, name, response)


def _verdict(credentials: "CarrierCredentials", name: str, response: httpx.Response) -> AccountCheck:
    status = response.status_code
    if status in (401, 403):
        return AccountCheck(False, "refused", f"{name} refused these credentials (HTTP {status})")
    if status == 404 and credentials.carrier == "telnyx" and credentials.messaging_profile_id:
        return AccountCheck(
            False,
            "profile_not_found",
            f"Telnyx accepted the API key but has no messaging profile {credentials.messaging_profile_id}",
        )
    if status == 404:
        # Twilio answers an unknown Account SID this way.
        return AccountCheck(False, "refused", f"{name} does not know this account (HTTP 404)")
    if status >= 500 or status == 429:
        return AccountCheck(False, "unavailable", f"{name} is unavailable (HTTP {status}); try again later")
    if status != 200:
        return AccountCheck(False, "unexpected", f"{name} answered HTTP {status}")
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    if credentials.carrier == "twilio":
        account_status = str(answer.get("status") or "active") if isinstance(answer, dict) else "active"
        if account_status != "active":
            return AccountCheck(False, "inactive", f"the Twilio account is {account_status}")
        return AccountCheck(True, "connected", "Twilio accepted the Account SID and auth token")
    data = answer.get("data") if isinstance(answer, dict) else None
    if credentials.messaging_profile_id and isinstance(data, dict) and data.get("enabled") is False:
        return AccountCheck(False, "inactive", "the Telnyx messaging profile is disabled")
    return AccountCheck(True, "connected", "Telnyx accepted the API key")
