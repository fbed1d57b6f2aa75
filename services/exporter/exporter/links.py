"""Signed, expiring download links. A link names one job and carries its own expiry, both under
an HMAC (itsdangerous), so it opens that file only, until then, and any change to it breaks the
signature. The expiry is part of what is signed, not a server-side max age, so the time e-mailed
to the requester is exactly the time the link stops working."""

from datetime import UTC, datetime, timedelta
from uuid import UUID

from itsdangerous import BadSignature, URLSafeSerializer


class LinkInvalid(Exception):
    """Tampered, malformed, or for another file: 403."""


class LinkExpired(Exception):
    """Genuine but past its expiry: 410."""


class DownloadLinks:
    def __init__(self, secret: str, lifetime: timedelta) -> None:
        self._serializer = URLSafeSerializer(secret, salt="exporter.download-link")
        self._lifetime = lifetime

    def expiry(self, now: datetime) -> datetime:
        """When a link made now stops working (whole seconds: that is what the link carries)."""
        return (now + self._lifetime).replace(microsecond=0)

    def sign(self, job_id: UUID, expires_at: datetime) -> str:
        """The same job and expiry always give the same token, so the status API can show the
        link again without extending it."""
        return self._serializer.dumps({"job": str(job_id), "exp": int(expires_at.timestamp())})

    def check(self, token: str, job_id: UUID, now: datetime) -> None:
        """Raises unless `token` is a genuine, unexpired link to `job_id`."""
        try:
            claims = self._serializer.loads(token)
            linked_job, expires = UUID(claims["job"]), int(claims["exp"])
        except (BadSignature, KeyError, TypeError, ValueError) as exc:
            raise LinkInvalid("this link is not valid") from exc
        if linked_job != job_id:
            raise LinkInvalid("this link is for another export")
        if now >= datetime.fromtimestamp(expires, UTC):
            raise LinkExpired("this link has expired; ask for a new export")
