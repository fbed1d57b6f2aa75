"""Making and checking the links (helpers shared by invitations and resets)."""

from datetime import datetime
from urllib.parse import urlencode
from uuid import UUID

from routing.domain.access_tokens import Purpose, new_token, record_id_of
from routing.invitations.usecases.errors import InvalidLink
from routing.settings import RoutingSettings

PAGES: dict[Purpose, str] = {"invitation": "/invitations/accept", "password_reset": "/password-reset"}


def signing_key(settings: RoutingSettings) -> bytes:
    return ("access-links:" + settings.jwt_secret.get_secret_value()).encode()


def make_token(settings: RoutingSettings, purpose: Purpose, record_id: UUID) -> str:
    return new_token(signing_key(settings), purpose, record_id)


def link_for(settings: RoutingSettings, purpose: Purpose, token: str) -> str:
    return f"{settings.app_base_url.rstrip('/')}{PAGES[purpose]}?{urlencode({'token': token})}"


def record_of(settings: RoutingSettings, purpose: Purpose, token: str) -> UUID:
    record_id = record_id_of(signing_key(settings), purpose, token)
    if record_id is None:
        raise InvalidLink("this link is not valid; check that it was copied whole, or ask for a new one")
    return record_id


def whole_seconds(moment: datetime) -> datetime:
    """JWTs carry their issue time in whole seconds: sessions end at a whole second too, so the
    token issued right after a password change is not refused."""
    return moment.replace(microsecond=0)
