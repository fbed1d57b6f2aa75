"""What a password must be: long enough, and not one of the passwords everyone tries first.
Pure rules; hashing (argon2, through pwdlib) is done by the capabilities."""

import re
from functools import cache
from pathlib import Path

MIN_LENGTH = 12
MAX_LENGTH = 1024
_COMMON_FILE = Path(__file__).with_name("common_passwords.txt")
# "password2024!" is "password" with something stuck on: refused like "password".
_PADDING = re.compile(r"^(?P<stem>.*?)[\d\W_]*$")


class PasswordRefused(ValueError):
    """`code` is what the API answers with; the message says it plainly."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@cache
def common_passwords() -> frozenset[str]:
    lines = _COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def check_password(password: str, email: str | None = None) -> None:
    """Raises PasswordRefused when the password may not be used."""
    if len(password) < MIN_LENGTH:
        raise PasswordRefused("password_too_short", f"use at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise PasswordRefused("password_too_long", f"use at most {MAX_LENGTH} characters")
    lowered = password.strip().lower()
    common = common_passwords()
    stem = _PADDING.match(lowered)
    stem_text = stem.group("stem") if stem else lowered
    repeated = len(set(lowered)) <= 2  # "aaaaaaaaaaaa", "abababababab"
    if lowered in common or (len(stem_text) >= 4 and stem_text in common) or repeated:
        raise PasswordRefused(
            "password_too_common", "this password is among the most commonly used; choose another"
        )
    if email and lowered in {email.strip().lower(), email.strip().lower().split("@")[0]}:
        raise PasswordRefused("password_too_common", "do not use your e-mail address as your password")
