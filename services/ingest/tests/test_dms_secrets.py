"""The pure rules of DMS secrets: their shape, what is kept of them, the rotation overlap and how
often "last used" is written."""

from datetime import UTC, datetime, timedelta

import pytest

from ingest.domain.dms_secrets import (
    last_use_is_stale,
    new_secret,
    retired_secret_valid_until,
    secret_hash,
    secret_hint,
)

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def test_secrets_are_prefixed_random_and_long():
    made = {new_secret() for _ in range(100)}
    assert len(made) == 100
    assert all(s.startswith("sbdms_") and len(s) == 6 + 43 for s in made)


def test_the_hash_is_sha256_hex_and_the_hint_reveals_four_random_characters():
    secret = "sbdms_AbCdEfGh"
    assert secret_hash(secret) == "33fe3887607bec84fec7e32b28d77618c8ece79ade968525348eb66fb890edbe"
    assert secret_hash(secret) != secret_hash(secret + "x")
    assert secret_hint(secret) == "sbdms_AbCd…"
    assert secret_hint("demo-dms-integration-secret") == ""


@pytest.mark.parametrize("overlap", [timedelta(0), timedelta(hours=24), timedelta(days=7)])
def test_a_rotated_secret_works_for_the_overlap(overlap):
    assert retired_secret_valid_until(NOW, overlap) == NOW + overlap


@pytest.mark.parametrize("overlap", [timedelta(seconds=-1), timedelta(days=7, seconds=1)])
def test_an_overlap_out_of_bounds_is_refused(overlap):
    with pytest.raises(ValueError):
        retired_secret_valid_until(NOW, overlap)


def test_last_use_is_written_at_most_once_per_interval():
    minute = timedelta(minutes=1)
    assert last_use_is_stale(None, NOW, minute)
    assert not last_use_is_stale(NOW - timedelta(seconds=59), NOW, minute)
    assert last_use_is_stale(NOW - minute, NOW, minute)
