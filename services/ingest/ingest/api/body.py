"""Reading a webhook body safely: the expected content type, and never more than the limit
in memory, whatever Content-Length claims."""

from urllib.parse import unquote

from fastapi import Request
from starlette.requests import ClientDisconnect

from shared.http.errors import ApiError


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def read_body(request: Request, expected_type: str, max_bytes: int) -> bytes:
    if media_type(request) != expected_type:
        raise ApiError(415, "unsupported_media_type", f"expected {expected_type}")
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > max_bytes:
        raise ApiError(413, "payload_too_large", f"body over {max_bytes} bytes")
    # Straight from `receive` rather than through Request.stream's async generator (~3 µs a
    # webhook, issue 17); a body in one message, as webhooks come, is returned as it is.
    body = b""
    chunks = bytearray()
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        body = message.get("body", b"")
        if len(body) + len(chunks) > max_bytes:
            raise ApiError(413, "payload_too_large", f"body over {max_bytes} bytes")
        if not message.get("more_body", False):
            break
        chunks += body
    if chunks:
        chunks += body
        return bytes(chunks)
    return body


def parse_form(text: str) -> dict[str, str]:
    """`dict(parse_qsl(text, keep_blank_values=True))`, the same pairs (the last of a repeated
    name wins), at about half the cost (~10 µs against ~20 for Twilio's twenty fields; issue 17):
    a name or value is only unquoted when it has a `+` or `%`, and no list of pairs is built.
    Percent escapes are decoded by urllib's own `unquote` (UTF-8, invalid bytes replaced), as
    parse_qsl does; tests compare both on arbitrary input."""
    form = {}
    for field in text.split("&"):
        if field:
            name, _, value = field.partition("=")
            if "+" in name:
                name = name.replace("+", " ")
            if "%" in name:
                name = unquote(name)
            if "+" in value:
                value = value.replace("+", " ")
            if "%" in value:
                value = unquote(value)
            form[name] = value
    return form
