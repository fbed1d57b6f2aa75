"""Two replicas of each consumer on the partitioned topics (issue 15, item 4): work splits between
them and nothing is processed twice; and the CPU each service spends per inbound text, the
figure the sizing page in deploy/README.md is built on. A script that prints figures, not a test.

    .venv/bin/python tests/platform/two_replicas.py [--texts 600] [--customers 200] [--concurrency 16]

An isolated Switchboard (bench/environment.py: fresh database, own topic prefix) with topics of
6 partitions (as in deploy/): one ingest, and routing, notifier and search twice each, as real
processes. Signed Twilio webhooks from `--customers` numbers (a new conversation each, then
replies into it); then, per consumer group and topic, how many messages each replica handled
(faststream's own counter on each replica's /metrics), against how many the topic got, and the
rows stored (one message per text, one search row per text, one notification per conversation).
"""

import argparse
import asyncio
import re
import secrets
import sys
import time
from collections import defaultdict
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from environment import CpuMeter, bench_environment, dsn, pids_matching  # noqa: E402

from devtools import demo  # noqa: E402
from devtools.carrier_simulator.twilio import inbound_sms_form, post_inbound  # noqa: E402
from devtools.processes import ServiceProcess, stop_services  # noqa: E402
from shared.testing.ports import free_ports  # noqa: E402

PARTITIONS = "6"
REPLICATED = ("routing", "notifier", "search")
PROCESSED = re.compile(
    r'^faststream_received_processed_messages_total\{[^}]*handler="(?P<handler>[^"]+)"[^}]*'
    r'status="(?P<status>[^"]+)"\} (?P<count>[0-9.e+]+)$',
    re.M,
)


def handled(url: str, prefix: str) -> dict[tuple[str, str], int]:
    """(topic without prefix, status) → messages this replica's consumers handled."""
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for match in PROCESSED.finditer(httpx.get(f"{url}/metrics", timeout=5).text):
        topic = match["handler"].removeprefix(prefix)
        counts[(topic, match["status"])] += int(float(match["count"]))
    return counts


async def topic_sizes(bootstrap: str, prefix: str) -> dict[str, int]:
    """Messages on each of the run's topics (end offsets; the topics are new)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await admin.start()
    await consumer.start()
    try:
        ours = [topic for topic in await admin.list_topics() if topic.startswith(prefix)]
        sizes = {}
        for described in await admin.describe_topics(ours):
            topic = described["topic"]
            partitions = [TopicPartition(topic, p["partition"]) for p in described["partitions"]]
            sizes[topic.removeprefix(prefix)] = sum((await consumer.end_offsets(partitions)).values())
        return sizes
    finally:
        await consumer.stop()
        await admin.close()


async def group_offsets(bootstrap: str, prefix: str) -> dict[str, dict[str, int]]:
    """Each of the run's consumer groups → {topic: committed offsets summed over partitions}
    (aiokafka cannot decode Kafka 4's DescribeGroups answers; offsets say which topics a group
    reads and how far)."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        names = [group for group, *_ in await admin.list_consumer_groups() if group.startswith(prefix)]
        groups = {}
        for name in names:
            committed: dict[str, int] = defaultdict(int)
            for partition, offset in (await admin.list_consumer_group_offsets(name)).items():
                committed[partition.topic.removeprefix(prefix)] += max(offset.offset, 0)
            groups[name.removeprefix(prefix)] = dict(committed)
        return groups
    finally:
        await admin.close()


async def count(database_url: str, sql: str) -> int:
    connection = await asyncpg.connect(dsn(database_url))
    try:
        return await connection.fetchval(sql)
    finally:
        await connection.close()


async def send(ingest: str, texts: int, customers: int, concurrency: int, word: str) -> int:
    numbers = [f"+1438{secrets.randbelow(10**7):07d}" for _ in range(customers)]
    queue = asyncio.Queue()
    for i in range(texts):
        queue.put_nowait((numbers[i % customers], f"Text {i} about my car {word}"))
    accepted = 0
    refused: list[int] = []

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal accepted
        while not queue.empty():
            number, body = queue.get_nowait()
            form = inbound_sms_form(demo.TWILIO_ACCOUNT_SID, number, demo.DEALERSHIP_NUMBER, body)
            response = await post_inbound(client, ingest, demo.TWILIO_AUTH_TOKEN, form)
            accepted += response.status_code == 200
            if response.status_code != 200:
                refused.append(response.status_code)

    async with httpx.AsyncClient(timeout=30) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    if refused:
        # ingest answers 503 when Kafka did not confirm in time; a carrier posts again then.
        print(f"[run] not accepted: {sorted(refused)} (a carrier would retry these)", flush=True)
    return accepted


async def wait_for(check, want: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    value = await check()
    while value < want and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        value = await check()
    return value


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=600)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    word = f"scale{secrets.token_hex(3)}"

    with bench_environment(["ingest"], {"KAFKA_PARTITIONS": PARTITIONS, "LOG_LEVEL": "WARNING"}) as env:
        ports = iter(free_ports(2 * len(REPLICATED)))
        replicas: dict[str, ServiceProcess] = {}
        for name in REPLICATED:
            for index in (1, 2):
                replicas[f"{name}-{index}"] = ServiceProcess(
                    name, next(ports), env.env, env.log_dir / f"{name}-{index}.log"
                )
        first_routing = replicas["routing-1"].url
        for service in replicas.values():
            service.env = {**service.env, "ROUTING_URL": first_routing}
            service.start()
        try:
            for service in replicas.values():
                service.wait_ready(90)
            time.sleep(5)  # both members of each group joined and were given their partitions
            processes = {"ingest": env.services["ingest"], **replicas}
            meter = CpuMeter(
                {
                    **{label: (lambda s=service: [s.process.pid]) for label, service in processes.items()},
                    "postgresql": lambda: pids_matching(env.database_url.rsplit("/", 1)[1]),
                    "kafka": lambda: pids_matching("kafka.Kafka"),
                }
            )
            size_sql = (
                "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 't', 'm') "
                "AND n.nspname IN ('ingest', 'routing', 'notifier', 'search', 'exporter')"
            )
            size_before = asyncio.run(count(env.database_url, size_sql))
            meter.start()
            started = time.monotonic()
            accepted = asyncio.run(
                send(env.url("ingest"), args.texts, args.customers, args.concurrency, word)
            )
            stored = asyncio.run(
                wait_for(
                    lambda: count(
                        env.database_url, f"SELECT count(*) FROM routing.messages WHERE body LIKE '%{word}'"
                    ),
                    args.texts,
                    120,
                )
            )
            indexed = asyncio.run(
                wait_for(
                    lambda: count(env.database_url, "SELECT count(*) FROM search.messages"),
                    args.texts,
                    120,
                )
            )
            time.sleep(3)  # the last notifications and commits
            seconds = time.monotonic() - started
            used = meter.stop()
            grown = int(asyncio.run(count(env.database_url, size_sql)) - size_before)
            sizes = asyncio.run(topic_sizes(env.kafka_bootstrap, env.topic_prefix))
            groups = asyncio.run(group_offsets(env.kafka_bootstrap, env.topic_prefix))
            per_replica = {label: handled(s.url, env.topic_prefix) for label, s in replicas.items()}
            distinct = asyncio.run(
                count(
                    env.database_url,
                    "SELECT count(DISTINCT carrier_message_id) FROM routing.messages "
                    f"WHERE body LIKE '%{word}'",
                )
            )
        finally:
            stop_services(replicas)

    print(
        f"\n{accepted} texts accepted by ingest of {args.texts} sent ({args.customers} customers), "
        f"{seconds:.1f} s; routing stored {stored} ({distinct} distinct carrier ids); "
        f"search indexed {indexed} messages"
    )
    print("\nconsumer groups of the replicated services: committed offsets / messages, per topic")
    for group, topics in sorted(groups.items()):
        if re.split(r"[-.]", group)[0] in REPLICATED and any(topics.values()):
            listed = ", ".join(
                f"{topic} {done}/{sizes.get(topic, 0)}" for topic, done in sorted(topics.items())
            )
            print(f"  {group}: {listed}")
    print(
        "\nper service and topic: on the topic x the service's groups on it = expected; "
        "handled by replica 1 / replica 2; extra"
    )
    ok = True
    for name in REPLICATED:
        topics = sorted({topic for label in (f"{name}-1", f"{name}-2") for topic, _ in per_replica[label]})
        for topic in topics:
            one = sum(v for (t, _), v in per_replica[f"{name}-1"].items() if t == topic)
            two = sum(v for (t, _), v in per_replica[f"{name}-2"].items() if t == topic)
            readers = sum(
                1
                for group, topics_read in groups.items()
                if re.split(r"[-.]", group)[0] == name and topics_read.get(topic)
            )
            expected = sizes.get(topic, 0) * readers
            extra = one + two - expected
            ok &= extra == 0 and (expected < 12 or (one > 0 and two > 0))
            print(
                f"  {name:<9} {topic:<36} {sizes.get(topic, 0):>5} x {readers} = {expected:<5} "
                f"{one:>5} / {two:<5} {extra:+d}"
            )
    print(
        f"\nPostgreSQL grew {grown / 1e6:.1f} MB: {grown / max(accepted, 1):.0f} bytes per text "
        "(every schema, indexes and TOAST included)"
    )
    print("\nCPU seconds during the run, and per text accepted:")
    for label, value in used.items():
        per = f"{1000 * value / max(accepted, 1):.2f} ms/text" if not label.startswith("machine") else ""
        print(f"  {label:<14} {value:7.2f} s  {per}")
    print(
        "\nwork split and nothing processed twice:", "yes" if ok and stored == distinct == accepted else "NO"
    )


if __name__ == "__main__":
    main()
