"""Sends one e-mail over SMTP (aiosmtplib): a multipart/alternative with plain text and HTML."""

from email.message import EmailMessage
from email.utils import formataddr

import aiosmtplib

from notifier.email.render import RenderedEmail
from notifier.settings import NotifierSettings


class SmtpRejected(Exception):
    """The server refused the recipient or the message for good (a 5xx answer)."""


class SmtpSender:
    def __init__(self, settings: NotifierSettings) -> None:
        self._settings = settings

    def build(self, rendered: RenderedEmail, to_address: str, to_name: str, message_key: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self._settings.email_from
        message["To"] = formataddr((to_name, to_address))
        message["Subject"] = rendered.subject
        # Stable per (event, user): a mail system that sees it twice can tell it is one e-mail.
        message["Message-ID"] = f"<{message_key}@switchboard.notifier>"
        message["X-Switchboard-Notification"] = message_key
        message.set_content(rendered.text)
        message.add_alternative(rendered.html, subtype="html")
        return message

    async def send(self, message: EmailMessage) -> None:
        settings = self._settings
        try:
            await aiosmtplib.send(
                message,
                hostname=settings.smtp_host,
                port=settings.smtp_port,
                username=settings.smtp_username,
                password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
                start_tls=settings.smtp_starttls,
                timeout=settings.smtp_timeout_seconds,
            )
        except (
            aiosmtplib.SMTPRecipientsRefused,
            aiosmtplib.SMTPDataError,
            aiosmtplib.SMTPSenderRefused,
        ) as exc:
            code = getattr(exc, "code", None)
            recipients = getattr(exc, "recipients", None)
            if recipients:
                code = recipients[0].code
            if code is not None and 500 <= int(code) < 600:
                raise SmtpRejected(str(exc)) from exc
            raise
