"""The e-mailed link opens its own file, unaltered, until it expires: 403 tampered or another
export's, 410 expired."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from exporter import repository
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


async def _done_job(sessions, storage, links, dealer, expires_at: datetime, scratch):
    async with sessions.begin() as session:
        job, _ = await repository.create_or_find_pending(
            session,
            account_id=dealer.account_id,
            requested_by=dealer.sam_id,
            conversation_id=uuid4(),
            since=None,
            until=None,
            time_zone=None,
        )
    source = scratch / f"src-{job.id}.pdf"
    source.write_bytes(b"%PDF-1.7 " + str(job.id).encode())
    key = await storage.put(job.id, source)
    async with sessions.begin() as session:
        running = await repository.start_attempt(session, dealer.account_id, job.id, timedelta(minutes=5))
        await repository.mark_done(session, job.id, running.run_token, key, 1, expires_at, datetime.now(UTC))
    return job, links.sign(job.id, expires_at)


async def test_download_answers_403_for_tampered_or_foreign_links_and_410_when_expired(
    client, sessions, storage, links, dealer, tmp_path
):
    week = datetime.now(UTC).replace(microsecond=0) + timedelta(days=7)
    job, token = await _done_job(sessions, storage, links, dealer, week, tmp_path)
    _other, other_token = await _done_job(sessions, storage, links, dealer, week, tmp_path)
    ok = await client.get(f"/api/v1/exports/{job.id}/download", params={"token": token})
    assert ok.status_code == 200 and ok.content == b"%PDF-1.7 " + str(job.id).encode()

    tampered = token[:-3] + ("abc" if not token.endswith("abc") else "xyz")
    responses = {
        "tampered": await client.get(f"/api/v1/exports/{job.id}/download", params={"token": tampered}),
        "other job's token": await client.get(
            f"/api/v1/exports/{job.id}/download", params={"token": other_token}
        ),
        "missing": await client.get(f"/api/v1/exports/{job.id}/download"),
    }
    assert responses["tampered"].status_code == 403
    assert responses["tampered"].json()["error"]["code"] == "invalid_link"
    assert responses["other job's token"].status_code == 403
    assert responses["missing"].status_code == 422

    past = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    expired_job, expired_token = await _done_job(sessions, storage, links, dealer, past, tmp_path)
    expired = await client.get(f"/api/v1/exports/{expired_job.id}/download", params={"token": expired_token})
    assert expired.status_code == 410 and expired.json()["error"]["code"] == "link_expired"
    status = (await client.get(f"/api/v1/exports/{expired_job.id}", headers=dealer.sam)).json()
    assert status["download_url"] is None, "an expired link is not shown again"
