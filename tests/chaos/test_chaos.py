"""Chaos under load: customers text in (Twilio and Telnyx) and staff reply while services,
Kafka and PostgreSQL are killed and restarted, on a Switchboard of the test's own. Afterwards
every acknowledged text is stored once, every accepted reply reached the carrier once, every
notification reached the open streams once, and the search index agrees with routing.

`make chaos-short` runs the short profile; `make chaos` (CHAOS_DURATION seconds) the long one. The
table of the run is printed and kept in build/chaos/<profile>.md."""

import pytest

from tests.chaos.run import profile_from_environment, run_chaos

pytestmark = [pytest.mark.chaos, pytest.mark.e2e]


async def test_nothing_acknowledged_is_lost_or_doubled_under_faults():
    profile = profile_from_environment()
    outcome = await run_chaos(profile)
    print(f"\nchaos run ({profile.name}): {outcome.seconds:.0f} s, {outcome.texts_sent} texts sent")
    print(outcome.table)
    findings = outcome.findings
    assert not findings.failures(), "\n".join([outcome.table, *findings.failures()])
    # The run measured something: texts through every fault, replies, notifications, reconnects.
    # While the broker is down ingest must refuse (503) rather than acknowledge, so a fault may
    # have only refusals; what matters is that texts kept coming at it.
    for row in findings.rows:
        assert row.texts_in + row.refused > 0, f"no text offered during {row.fault}"
    assert sum(row.texts_in for row in findings.rows) > 0
    assert sum(row.replies for row in findings.rows) > 0
    assert findings.notifications_expected > 0
    assert all(n > 0 for n in outcome.reconnects), "a stream never had to resume"
    assert findings.poison_dead_lettered, "the poison event never reached the dead-letter topic"
