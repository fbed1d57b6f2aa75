"""Builds Twilio-format inbound webhooks signed the way Twilio signs them, with the twilio
package's own validator code, and posts them to `ingest`."""

import itertools
import secrets

import httpx
from twilio.request_validator import RequestValidator

_counter = itertools.count(1)


def inbound_sms_form(
    account_sid: str, from_number: str, to_number: str, body: str, media: list[tuple[str, str]] = ()
) -> dict[str, str]:
    """Every field Twilio posts for an inbound message; `media` is (url, content type) pairs."""
    message_sid = f"SM{secrets.token_hex(16)}"
    form = {
        "ToCountry": "CA",
        "ToState": "QC",
        "ToCity": "MONTREAL",
        "ToZip": "",
        "FromCountry": "CA",
        "FromState": "QC",
        "FromCity": "MONTREAL",
        "FromZip": "",
        "SmsMessageSid": message_sid,
        "SmsSid": message_sid,
        "MessageSid": message_sid,
        "SmsStatus": "received",
        "AccountSid": account_sid,
        "MessagingServiceSid": "",
        "From": from_number,
        "To": to_number,
        "Body": body,
        "NumMedia": str(len(media)),
        "NumSegments": "1",
        "ApiVersion": "2010-04-01",
    }
    for index, (url, content_type) in enumerate(media):
        form[f"MediaUrl{index}"] = url
        form[f"MediaContentType{index}"] = content_type
    return form


def twilio_status_form(
    account_sid: str,
    message_sid: str,
    from_number: str,
    to_number: str,
    status: str,
    error_code: str | None = None,
    error_message: str | None = None,
) -> dict[str, str]:
    """The fields Twilio posts to a message's StatusCallback."""
    form = {
        "SmsSid": message_sid,
        "SmsStatus": status,
        "MessageStatus": status,
        "To": to_number,
        "MessageSid": message_sid,
        "AccountSid": account_sid,
        "From": from_number,
        "ApiVersion": "2010-04-01",
    }
    if error_code is not None:
        form["ErrorCode"] = error_code
    if error_message is not None:
        form["ErrorMessage"] = error_message
    return form


def sign(auth_token: str, url: str, form: dict[str, str]) -> str:
    return RequestValidator(auth_token).compute_signature(url, form)


async def post_inbound(
    client: httpx.AsyncClient, ingest_url: str, auth_token: str, form: dict[str, str]
) -> httpx.Response:
    url = f"{ingest_url.rstrip('/')}/webhooks/twilio/sms"
    return await client.post(url, data=form, headers={"X-Twilio-Signature": sign(auth_token, url, form)})


async def post_status(
    client: httpx.AsyncClient, ingest_url: str, auth_token: str, form: dict[str, str]
) -> httpx.Response:
    url = f"{ingest_url.rstrip('/')}/webhooks/twilio/status"
    return await client.post(url, data=form, headers={"X-Twilio-Signature": sign(auth_token, url, form)})
