"""Reading a webhook body safely: the expected content type, and never more than the limit
in memory, whatever Content-Length claims."""

from fastapi import Request

from shared.http.errors import ApiError


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def read_body(request: Request, expected_type: str, max_bytes: int) -> bytes:
    if media_type(request) != expected_type:
        raise ApiError(415, "unsupported_media_type", f"expected {expected_type}")
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > max_bytes:
        raise ApiError(413, "payload_too_large", f"body over {max_bytes} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise ApiError(413, "payload_too_large", f"body over {max_bytes} bytes")
    return bytes(body)
