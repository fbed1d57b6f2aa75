"""The faults a chaos run injects, one at a time (or two at once), each undone after a while:
SIGKILL to a service replica, SIGKILL to the Kafka broker, PostgreSQL's immediate stop, the SMTP
server gone, the carrier answering 429 or 500, a poison event on a consumer's topic."""

import asyncio
import json
import os
import subprocess
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx
from aiokafka import AIOKafkaProducer

from devtools import demo
from tests.chaos.cluster import HANDLER_RETRY_SECONDS, TOPIC_PREFIX, Cluster


@dataclass
class Fault:
    label: str
    # Breaks something; returns what puts it back.
    inject: Callable[[Cluster], Awaitable[Callable[[], Awaitable[None]]]]
    # How long it stays broken.
    down_seconds: float
    started: float = 0.0
    restored: float = 0.0
    notes: list[str] = field(default_factory=list)


def kill_replicas(*labels: str, down: float = 2.0) -> Fault:
    async def inject(cluster: Cluster):
        replicas = [cluster.replica(label) for label in labels]
        for replica in replicas:
            replica.kill()

        async def restore() -> None:
            for replica in replicas:
                replica.restart()
            await cluster.wait_ready(replicas)

        return restore

    return Fault(" + ".join(f"kill {label}" for label in labels), inject, down)


def kill_kafka(down: float = 3.0) -> Fault:
    async def inject(cluster: Cluster):
        await asyncio.to_thread(cluster.infra.kill_kafka)

        async def restore() -> None:
            await asyncio.to_thread(cluster.infra.start_kafka)
            await cluster.wait_ready(cluster.all_replicas())

        return restore

    return Fault("kill Kafka", inject, down)


def stop_postgres(down: float = 3.0) -> Fault:
    async def inject(cluster: Cluster):
        await asyncio.to_thread(cluster.infra.kill_postgres)

        async def restore() -> None:
            await asyncio.to_thread(cluster.infra.start_postgres)
            await cluster.wait_ready(cluster.all_replicas())

        return restore

    return Fault("PostgreSQL immediate stop", inject, down)


async def request_export(cluster: Cluster) -> str:
    """A staff member asks for a conversation's PDF (through whichever exporter answers)."""
    async with httpx.AsyncClient(timeout=15) as client:
        for attempt in range(60):
            exporter = cluster.replicas["exporter"][attempt % len(cluster.replicas["exporter"])]
            try:
                response = await client.post(
                    f"{exporter.url}/api/v1/exports",
                    json={"conversation_id": cluster.conversation_ids[0]},
                    headers={"authorization": f"Bearer {cluster.staff_token}"},
                )
            except httpx.HTTPError:
                await asyncio.sleep(1)
                continue
            if response.status_code == 202:
                return response.json()["job_id"]
            await asyncio.sleep(1)
    raise RuntimeError("no exporter took the export request")


async def export_outcome(cluster: Cluster, job_id: str, timeout: float = 120) -> dict:
    """The job once it is done or failed (or as it is at `timeout`)."""
    deadline = time.monotonic() + timeout
    job: dict = {}
    async with httpx.AsyncClient(timeout=15) as client:
        while time.monotonic() < deadline:
            for exporter in cluster.replicas["exporter"]:
                try:
                    response = await client.get(
                        f"{exporter.url}/api/v1/exports/{job_id}",
                        headers={"authorization": f"Bearer {cluster.staff_token}"},
                    )
                except httpx.HTTPError:
                    continue
                if response.status_code == 200:
                    job = response.json()
                    if job["status"] in ("done", "failed"):
                        return job
                    break
            await asyncio.sleep(1)
    return job


def smtp_down(down: float = 60.0) -> Fault:
    """The mail server gone while an export's link is to be e-mailed: the e-mail waits in
    notifier's outbox and goes once the server is back (checked when the run has settled)."""

    async def inject(cluster: Cluster):
        cluster.smtp.kill()
        job_id = await request_export(cluster)

        async def restore() -> None:
            await asyncio.to_thread(cluster.smtp.start)
            job = await export_outcome(cluster, job_id)
            # Done, or failed with its reason (this harness's exporter reads one routing replica,
            # which may be the one killed): either way its e-mail must go once SMTP is back,
            # which the e-mail check verifies.
            cluster.export_checks.append(
                (
                    "export asked while SMTP was down",
                    job.get("status") in ("done", "failed"),
                    f"{job.get('status')} {job.get('failed_reason') or ''}".strip(),
                )
            )

        return restore

    return Fault("SMTP down", inject, down)


def exports_disk_full(down: float = 30.0) -> Fault:
    """The exports' disk full (a tiny tmpfs over the folder, filled): an export asked then fails
    with a plain reason after its retries; once there is room again the next one is done."""

    async def inject(cluster: Cluster):
        folder = cluster.exports_dir
        folder.mkdir(parents=True, exist_ok=True)
        await _command("mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(folder))
        await _command("dd", "if=/dev/zero", f"of={folder / 'filler'}", "bs=1k", "count=64", check=False)
        job = await export_outcome(cluster, await request_export(cluster))
        cluster.export_checks.append(
            (
                "export on a full disk",
                job.get("status") == "failed"
                and job.get("attempts", 0) > 1
                and bool(job.get("failed_reason")),
                f"{job.get('status')} after {job.get('attempts')} attempts: {job.get('failed_reason')}",
            )
        )

        async def restore() -> None:
            await _command("umount", str(folder))
            again = await export_outcome(cluster, await request_export(cluster))
            cluster.export_checks.append(
                ("export once there is room", again.get("status") == "done", str(again.get("status")))
            )

        return restore

    return Fault("exports disk full", inject, down)


def carrier_failing(status: int, down: float = 60.0) -> Fault:
    async def configure(cluster: Cluster, value: int) -> None:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.post(
                f"{cluster.simulator.url}/simulate/config", json={"send_failure_status": value}
            )
            response.raise_for_status()

    async def inject(cluster: Cluster):
        await configure(cluster, status)

        async def restore() -> None:
            await configure(cluster, 0)

        return restore

    return Fault(f"carrier answers {status}", inject, down)


# A text PostgreSQL refuses to store (a NUL character): routing's handler fails on it every time
# (not a validation error), so the consumer retries it, then dead-letters it and goes on.
POISON_BODY = "poison \x00 event"


def poison_event(down: float = 1.0) -> Fault:
    async def inject(cluster: Cluster):
        producer = AIOKafkaProducer(bootstrap_servers=cluster.infra.kafka_bootstrap)
        await producer.start()
        try:
            event = {
                "event_id": str(uuid.uuid4()),
                "account_id": str(demo.ACCOUNT_ID),
                "carrier": "twilio",
                "carrier_message_id": f"SMpoison{uuid.uuid4().hex}",
                "from_number": "+15145569999",
                "to_number": demo.DEALERSHIP_NUMBER,
                "body": POISON_BODY,
                "received_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
            cluster.poison.append(event["carrier_message_id"])
            await producer.send_and_wait(
                f"{TOPIC_PREFIX}carrier.inbound.v1", json.dumps(event).encode(), key=b"+15145569999"
            )
        finally:
            await producer.stop()

        async def restore() -> None:
            return None

        return restore

    return Fault("poison event", inject, down)


async def _command(*command: str, check: bool = True) -> None:
    await asyncio.to_thread(subprocess.run, list(command), capture_output=True, check=check)


def can_mount() -> bool:
    """A full disk is a tmpfs mounted over the exports' folder: root only."""
    return os.geteuid() == 0


def short_schedule() -> list[Fault]:
    """`make chaos-short`: each service killed once, Kafka once, PostgreSQL once, two services at once,
    the carrier refusing for a few seconds, a poison event."""
    return [
        kill_replicas("ingest-1"),
        kill_replicas("routing-1"),
        kill_replicas("notifier-1"),
        kill_replicas("search-1"),
        kill_replicas("exporter-1"),
        kill_replicas("web-1"),
        kill_kafka(),
        stop_postgres(down=HANDLER_RETRY_SECONDS + 5),
        kill_replicas("routing-2", "notifier-2"),
        carrier_failing(429, down=5),
        carrier_failing(500, down=5),
        smtp_down(down=10),
        *([exports_disk_full(down=1)] if can_mount() else []),
        poison_event(),
    ]


def long_schedule() -> list[Fault]:
    """`make chaos`: every replica killed, then pairs, then the infrastructure, then the minute-
    long outages; the run repeats it until its duration is spent."""
    singles = [
        kill_replicas(f"{name}-{n}", down=5)
        for n in (1, 2)
        for name in ("ingest", "routing", "notifier", "search", "exporter", "web")
    ]
    pairs = [
        kill_replicas("routing-1", "routing-2", down=5),
        kill_replicas("ingest-1", "notifier-2", down=5),
        kill_replicas("notifier-1", "notifier-2", down=5),
        kill_replicas("search-2", "routing-1", down=5),
    ]
    return [
        *singles,
        *pairs,
        kill_kafka(down=10),
        stop_postgres(down=10),
        smtp_down(60),
        carrier_failing(429, 60),
        carrier_failing(500, 60),
        *([exports_disk_full(down=60)] if can_mount() else []),
        poison_event(),
    ]
