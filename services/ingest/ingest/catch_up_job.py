"""The catch-up loop every replica runs (a BackgroundJob): at start-up, then every few seconds it
takes the numbers and outbound texts that are due (each number is due every
`catch_up_interval_seconds`, later after a failure) and logs one line per cycle that did something."""

import asyncio
import contextlib
import time

import structlog

from ingest.usecases.catch_up import CatchUpDeps, refresh_gauges, run_inbound_cycle
from ingest.usecases.outbound_check import run_outbound_cycle

log = structlog.get_logger(__name__)


def catch_up_job(deps: CatchUpDeps):
    settings = deps.settings
    # Numbers come due one by one (their own next_run_at), so the loop looks often and cheaply.
    tick = max(0.2, min(settings.catch_up_interval_seconds / 4, 5.0))

    async def catch_up(stop: asyncio.Event) -> None:
        while not stop.is_set():
            started = time.perf_counter()
            try:
                report = await run_inbound_cycle(deps)
                statuses = await run_outbound_cycle(deps)
                await refresh_gauges(deps)
            except Exception as exc:  # the database is down: try again at the next tick
                log.warning("catch-up cycle failed", error=repr(exc))
                report, statuses = None, 0
            elapsed = time.perf_counter() - started
            if report is not None and (report.numbers or statuses):
                deps.metrics.cycle_seconds.observe(elapsed)
                recovered = {c: report.recovered(c) for c in ("twilio", "telnyx")}
                failed = [n.e164 for n in report.numbers if n.error]
                # Recovered texts mean webhooks are failing: worth a warning, not just info.
                level = log.warning if any(recovered.values()) or statuses or failed else log.info
                level(
                    "catch-up cycle",
                    numbers=len(report.numbers),
                    listed=sum(n.listed for n in report.numbers),
                    recovered_twilio=recovered["twilio"],
                    recovered_telnyx=recovered["telnyx"],
                    statuses_recovered=statuses,
                    rejected=sum(n.rejected for n in report.numbers),
                    failed_numbers=failed,
                    seconds=round(elapsed, 3),
                )
            full = report is not None and len(report.numbers) >= settings.catch_up_numbers_per_cycle
            if not full:  # more were due: go on at once
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=tick)

    return catch_up
