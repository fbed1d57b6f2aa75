"""When to try an e-mail again after a failed attempt."""

from datetime import timedelta


def backoff(attempts: int, base_seconds: float, max_seconds: float) -> timedelta:
    """Exponential: base, 2·base, 4·base, … capped at max (attempts counts the failed ones, ≥ 1)."""
    return timedelta(seconds=min(max_seconds, base_seconds * 2 ** max(0, attempts - 1)))
