"""The e-mailed link opens its own file, unaltered, until it expires: 403 tampered or another
export's, 410 expired."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from exporter.links import DownloadLinks, LinkExpired, LinkInvalid

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
def link_maker() -> DownloadLinks:
    return DownloadLinks("secret-for-tests", timedelta(days=7))


def test_a_genuine_link_opens_its_job_until_it_expires(link_maker):
    job = uuid4()
    expires = link_maker.expiry(NOW)
    token = link_maker.sign(job, expires)
    link_maker.check(token, job, NOW + timedelta(days=6, hours=23))
    with pytest.raises(LinkExpired):
        link_maker.check(token, job, expires)
    assert token == link_maker.sign(job, expires), "the same link is shown again, not extended"


def test_altered_foreign_or_other_secret_links_are_invalid(link_maker):
    job = uuid4()
    token = link_maker.sign(job, link_maker.expiry(NOW))
    altered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for bad in (altered, "", "nonsense", token + "x"):
        with pytest.raises(LinkInvalid):
            link_maker.check(bad, job, NOW)
    with pytest.raises(LinkInvalid):
        link_maker.check(token, uuid4(), NOW)
    with pytest.raises(LinkInvalid):
        DownloadLinks("another-secret", timedelta(days=7)).check(token, job, NOW)


async def test_download_answers_403_for_tampered_or_foreign_links_and_410_when_expired(
    client, storage, dealer, done_job
):
    week = datetime.now(UTC).replace(microsecond=0) + timedelta(days=7)
    job_id, _key, token = await done_job(storage, week)
    *_other, other_token = await done_job(storage, week)
    ok = await client.get(f"/api/v1/exports/{job_id}/download", params={"token": token})
    assert ok.status_code == 200 and ok.content == b"%PDF-1.7 " + str(job_id).encode()

    tampered = token[:-3] + ("abc" if not token.endswith("abc") else "xyz")
    responses = {
        "tampered": await client.get(f"/api/v1/exports/{job_id}/download", params={"token": tampered}),
        "other job's token": await client.get(
            f"/api/v1/exports/{job_id}/download", params={"token": other_token}
        ),
        "missing": await client.get(f"/api/v1/exports/{job_id}/download"),
    }
    assert responses["tampered"].status_code == 403
    assert responses["tampered"].json()["error"]["code"] == "invalid_link"
    assert responses["other job's token"].status_code == 403
    assert responses["missing"].status_code == 422

    past = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    expired_job_id, _key, expired_token = await done_job(storage, past)
    expired = await client.get(f"/api/v1/exports/{expired_job_id}/download", params={"token": expired_token})
    assert expired.status_code == 410 and expired.json()["error"]["code"] == "link_expired"
    status = (await client.get(f"/api/v1/exports/{expired_job_id}", headers=dealer.sam)).json()
    assert status["download_url"] is None, "an expired link is not shown again"
