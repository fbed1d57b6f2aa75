"""How a batch consumer (`consumer.subscribe_batch`) gathers its batches: it waits after a
batch's first records for those behind them, as long as the recent rate says more are coming."""

import asyncio
import collections
import contextlib
from typing import Any

from shared.settings import ServiceSettings


class BatchGathering:
    """How long a batch consumer waits after a batch's first records for the ones behind them.

    Every batch costs the same fixed work whatever its size (a pass through FastStream, a
    transaction, an offset commit, the handler's statements), so at an ordinary inbound rate,
    where a fetch brings one or two texts, that fixed work is most of what a text costs. Waiting
    pays only when more records come meanwhile: while fewer than two would arrive within `most`
    seconds at the rate of the last second (a quiet dealership's evening), the consumer waits
    `least` and no longer; otherwise it takes what arrives until the batch holds `target` records
    or `most` seconds have passed since its first, whichever is first. At the peak rate `target`
    fills in a few ms; at 100 texts/s a batch holds ~`most` x 100 texts, each up to `most` later.

    Measured (bench/cpu_per_text.py, 100 texts/s, machine load 3-8): routing + notifier + search
    4.7 -> ~2.5 ms of CPU per text, PostgreSQL transactions 2.3 -> ~1 per text, with `most` 100
    ms; e2e_latency.py (webhook -> notification stream, two such hops) p50 +75 ms, p99 +120 ms
    at 100/s; web_live_latency.py (webhook -> row in an open page) p50 +46 ms, p99 +100 ms at 50/s
    (838 ms against 735, under the 1 s target; load 4.6-9.6)."""

    _WINDOW = 1.0  # seconds of batches the rate is taken over

    def __init__(self, least: float, most: float, target: int, max_records: int) -> None:
        self.least = least
        self.most = max(most, least)
        self.target = max(1, min(target, max_records))
        self.max_records = max_records
        self._recent: collections.deque[tuple[float, int]] = collections.deque()
        self._recent_records = 0

    @classmethod
    def from_settings(
        cls, settings: ServiceSettings, max_records: int, most: float | None = None
    ) -> "BatchGathering":
        return cls(
            settings.kafka_batch_gather_ms / 1000,
            settings.kafka_batch_gather_max_ms / 1000 if most is None else most,
            settings.kafka_batch_target_records,
            max_records,
        )

    def worth_waiting(self, now: float) -> bool:
        """At least two records are due within `most` seconds at the last second's rate."""
        while self._recent and self._recent[0][0] < now - self._WINDOW:
            self._recent_records -= self._recent.popleft()[1]
        return self._recent_records * self.most / self._WINDOW >= 2

    def took(self, now: float, count: int) -> None:
        self._recent.append((now, count))
        self._recent_records += count

    async def gather(self, consumer: Any, records: tuple) -> tuple:
        """`records` and those that arrive behind them."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        gathered = list(records)
        # A consumer stopping or rebalancing meanwhile: the batch as gathered so far.
        with contextlib.suppress(Exception):
            if len(gathered) >= self.target:
                pass
            elif self.most > self.least and self.worth_waiting(started):
                deadline = started + self.most
                while len(gathered) < self.target and (left := deadline - loop.time()) > 0:
                    # Returns as soon as the fetcher holds records, or at the deadline.
                    gathered.extend(await self._take(consumer, max(1, round(left * 1000)), len(gathered)))
            elif self.least > 0:
                await asyncio.sleep(self.least)
                gathered.extend(await self._take(consumer, 0, len(gathered)))
        self.took(started, len(gathered))
        return tuple(gathered)

    async def _take(self, consumer: Any, timeout_ms: int, have: int) -> list:
        more = await consumer.getmany(timeout_ms=timeout_ms, max_records=self.max_records - have)
        # Per partition, a later fetch's records follow an earlier's: partition order holds.
        return [record for partition in more.values() for record in partition]


# How long a batch consumer's wait for its first records lasts before it starts another (it
# returns as soon as records come).
IDLE_FETCH_MS = 5_000


def gather_batches(subscriber: Any, gathering: BatchGathering) -> None:
    """Makes FastStream's batch `subscriber` gather its batches (`BatchGathering`): at the
    inbound rate a batch holds many texts instead of one or two, and a text costs its share of
    one transaction, one pass through FastStream and one fetch. Done where FastStream fetches
    (`get_msg`), so its metrics and span count every record, and a nack rewinds every partition
    of the whole batch.

    The first records are awaited here too: FastStream's own fetch, finding nothing within 200
    ms, sleeps another 200 ms before it looks again, so the first text after a quiet moment could
    wait that long, and an idle consumer woke five times a second."""

    async def get_msg(consumer: Any) -> tuple:
        first = await consumer.getmany(timeout_ms=IDLE_FETCH_MS, max_records=gathering.max_records)
        records = tuple(record for partition in first.values() for record in partition)
        if not records or len(records) >= gathering.max_records:
            return records
        return await gathering.gather(consumer, records)

    subscriber.get_msg = get_msg
