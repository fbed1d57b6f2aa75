"""Keyset cursors: an opaque token naming the last customer of a page."""

import base64
import binascii
import json
from datetime import datetime
from uuid import UUID

from search.queries import Cursor, CustomerHit
from shared.http.errors import ApiError


def encode_cursor(hit: CustomerHit) -> str:
    raw = json.dumps({"t": hit.last_activity_at.isoformat(), "id": str(hit.customer_id)})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(token: str) -> Cursor:
    try:
        raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return Cursor(datetime.fromisoformat(raw["t"]), UUID(raw["id"]))
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise ApiError(422, "invalid_cursor", "the cursor is not one this API returned") from exc
