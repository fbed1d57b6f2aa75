"""Twilio's webhook formats and signature, as plain functions."""

from collections.abc import Mapping
from datetime import datetime
from uuid import UUID

from twilio.request_validator import RequestValidator

from shared.contracts.base import Attachment
from shared.contracts.carrier import CarrierInbound


class UnusableWebhook(ValueError):
    """Authentic, but missing what we need to act on it."""


def signature_is_valid(auth_token: str, url: str, params: Mapping[str, str], signature: str) -> bool:
    # Twilio's own validator also tries the URL with and without the default port.
    return bool(signature) and RequestValidator(auth_token).validate(url, dict(params), signature)


def _required(form: Mapping[str, str], field: str) -> str:
    value = form.get(field, "").strip()
    if not value:
        raise UnusableWebhook(f"missing field {field}")
    return value


def _attachments(form: Mapping[str, str]) -> list[Attachment]:
    try:
        count = int(form.get("NumMedia", "0") or 0)
    except ValueError as exc:
        raise UnusableWebhook("NumMedia is not a number") from exc
    attachments = []
    for index in range(min(count, 10)):
        url = form.get(f"MediaUrl{index}")
        if not url:
            raise UnusableWebhook(f"NumMedia is {count} but MediaUrl{index} is missing")
        attachments.append(
            Attachment(
                url=url,
                content_type=form.get(f"MediaContentType{index}"),
                file_name=url.rstrip("/").rsplit("/", 1)[-1],
            )
        )
    return attachments


def inbound_message(form: Mapping[str, str], account_id: UUID, received_at: datetime) -> CarrierInbound:
    return CarrierInbound(
        account_id=account_id,
        carrier="twilio",
        carrier_message_id=_required(form, "MessageSid"),
        from_number=_required(form, "From"),
        to_number=_required(form, "To"),
        body=form.get("Body", ""),
        attachments=_attachments(form),
        received_at=received_at,
        raw=dict(form),
    )
