"""What a process refuses to start with in production (`ENVIRONMENT=production`): a signing key
left at its development default or too short to resist guessing, and the demo dealership's
published secrets (README, devtools/demo.py) anywhere in its settings or its tables.

Elsewhere (local runs, tests, staging) the defaults are welcome."""

from collections.abc import Iterable, Mapping

from pydantic import SecretStr

PRODUCTION = "production"
# A signing key (a setting named `*_secret`: JWT_SECRET, CSRF_SECRET, DOWNLOAD_LINK_SECRET) of
# fewer characters than this is refused in production: HS256 wants at least 256 bits.
MIN_SIGNING_SECRET_LENGTH = 32

# The demo dealership's secrets, published in the README; devtools/demo.py seeds them (a test
# checks the two agree). Anyone who read the README could sign webhooks or DMS events with them.
DEMO_SECRETS = frozenset(
    {
        "demo-twilio-auth-token",
        "demo-dms-integration-secret",
        "KEY-demo-telnyx-api-key",
        "pXb1e7fCIEUN5WUgQtOgaKYI2qXbaJj8nUNXAQNVfNA=",  # Telnyx demo private key
        "H0WAqBOx6r+15jsIuCp9YZS5GX3SnAFIOxS3JWY1UMM=",  # and its public key
    }
)


class UnsafeForProduction(RuntimeError):
    """Raised at start-up; the message says what to change."""


def signing_secret_problems(fields: Mapping[str, tuple[object, object]]) -> list[str]:
    """`fields`: setting name -> (value, default). Every problem with the signing keys among
    them, in words an operator can act on."""
    problems = []
    for name, (value, default) in fields.items():
        if not isinstance(value, SecretStr):
            continue
        secret = value.get_secret_value()
        if name.endswith("_secret"):
            if isinstance(default, SecretStr) and secret == default.get_secret_value():
                problems.append(f"{name.upper()} is the development default")
            elif len(secret) < MIN_SIGNING_SECRET_LENGTH:
                problems.append(f"{name.upper()} is shorter than {MIN_SIGNING_SECRET_LENGTH} characters")
        if secret in DEMO_SECRETS:
            problems.append(f"{name.upper()} is a demo secret published in the README")
    return problems


def refuse(problems: Iterable[str]) -> None:
    problems = list(problems)
    if problems:
        raise UnsafeForProduction(
            "refusing to start with ENVIRONMENT=production: "
            + "; ".join(problems)
            + " (set real secrets from your secret store)"
        )
