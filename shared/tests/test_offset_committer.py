"""The offset committer commits only handled records, the newest per partition, at most once per
interval per consumer, and still commits when messages stop coming."""

import asyncio
from types import SimpleNamespace

from aiokafka import TopicPartition

from shared.kafka.consumer import OffsetCommitter


class RecordingConsumer:
    """Stands in for aiokafka's consumer: only `commit(offsets)` is used."""

    def __init__(self) -> None:
        self.commits: list[dict[TopicPartition, int]] = []

    async def commit(self, offsets) -> None:
        self.commits.append({tp: meta.offset for tp, meta in offsets.items()})


def record(partition: int, offset: int) -> SimpleNamespace:
    return SimpleNamespace(topic="t", partition=partition, offset=offset)


async def test_commits_next_offset_after_each_record_when_interval_is_zero() -> None:
    consumer = RecordingConsumer()
    committer = OffsetCommitter(0)
    await committer.handled(consumer, record(0, 5))
    await committer.handled(consumer, record(0, 6))
    assert consumer.commits == [{TopicPartition("t", 0): 6}, {TopicPartition("t", 0): 7}]


async def test_batches_records_within_interval_and_commits_the_newest_later() -> None:
    consumer = RecordingConsumer()
    committer = OffsetCommitter(0.2)
    await committer.handled(consumer, record(0, 1))  # first one: committed at once, in the background
    await asyncio.sleep(0.01)
    assert consumer.commits == [{TopicPartition("t", 0): 2}]
    for offset in range(2, 10):
        await committer.handled(consumer, record(0, offset))
    await committer.handled(consumer, record(1, 40))
    assert consumer.commits == [{TopicPartition("t", 0): 2}]
    await asyncio.sleep(0.4)  # no more messages: the delayed commit still lands
    assert consumer.commits[1:] == [{TopicPartition("t", 0): 10, TopicPartition("t", 1): 41}]


async def test_a_commit_that_hangs_holds_up_no_message_and_its_offsets_go_with_the_next() -> None:
    class CoordinatorLost(RecordingConsumer):
        """Like aiokafka's commit waiting for a group coordinator that never comes back."""

        def __init__(self) -> None:
            super().__init__()
            self.hang = True

        async def commit(self, offsets) -> None:
            if self.hang:
                await asyncio.Event().wait()
            await super().commit(offsets)

    consumer = CoordinatorLost()
    committer = OffsetCommitter(0.05, timeout=0.2)
    await asyncio.wait_for(committer.handled(consumer, record(0, 1)), 0.05)
    for offset in range(2, 6):
        await asyncio.sleep(0.03)
        await asyncio.wait_for(committer.handled(consumer, record(0, offset)), 0.05)
    consumer.hang = False
    await asyncio.sleep(0.5)  # the stuck commit gave up; the next one carries every offset
    assert consumer.commits and consumer.commits[-1] == {TopicPartition("t", 0): 6}


async def test_a_failing_commit_is_skipped_and_the_next_one_is_tried() -> None:
    class Rebalanced(RecordingConsumer):
        async def commit(self, offsets) -> None:
            self.commits.append({tp: meta.offset for tp, meta in offsets.items()})
            raise RuntimeError("CommitFailedError: group rebalanced")

    consumer = Rebalanced()
    committer = OffsetCommitter(0)
    await committer.handled(consumer, record(0, 1))  # raises nothing: the record comes again
    await committer.handled(consumer, record(0, 2))
    assert consumer.commits == [{TopicPartition("t", 0): 2}, {TopicPartition("t", 0): 3}]
