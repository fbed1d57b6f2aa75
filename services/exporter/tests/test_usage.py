"""Exports per dealership and month, as an operator reads them: export requests on the real
Kafka, rendered by exporter's own consumer (routing stood in for over HTTP), counted from its jobs
in Postgres; the same request delivered twice is one export; a failed export does not count; only
the operator token reads it."""

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from uuid import uuid4

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI

from exporter.consumers.export_requests import register_export_consumer
from exporter.usage import USAGE_DESCRIBED, usage_reader
from exporter.usecases.events import requested_event
from exporter.usecases.request_export import request_export
from exporter.usecases.run_export import ExportRunner
from shared.contracts.topics import EXPORT_REQUESTED
from shared.http.errors import install_error_handlers
from shared.http.usage import usage_router
from shared.kafka.topics import ensure_topics, topic_name
from shared.service import build_infrastructure
from shared.testing.topic_prefixes import new_topic_prefix

OPERATOR_TOKEN = secrets.token_urlsafe(24)
OPERATOR = {"authorization": f"Bearer {OPERATOR_TOKEN}"}


@pytest.fixture
async def consuming(settings, sessions, routing, storage, links, events, render_policy) -> AsyncIterator:
    """exporter's export.requested.v1 consumer on a topic prefix of its own, as app.py wires it."""
    own = settings.model_copy(update={"kafka_topic_prefix": new_topic_prefix("txu")})
    infra = build_infrastructure(own)
    await ensure_topics(own)
    _fake, client = routing
    register_export_consumer(infra, ExportRunner(sessions, client, storage, links, events, render_policy))
    await infra.broker.start()
    producer = AIOKafkaProducer(bootstrap_servers=own.kafka_bootstrap_servers, acks="all")
    await producer.start()

    async def publish(event) -> None:
        await producer.send_and_wait(
            topic_name(own, EXPORT_REQUESTED.name), event.to_bytes(), key=event.partition_key.encode()
        )

    yield publish
    await producer.stop()
    await infra.broker.stop()
    await infra.engine.dispose()


@pytest.fixture
async def operator_api(settings, sessions) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    install_error_handlers(app)
    own = settings.model_copy(update={"operator_tokens": f"billing={OPERATOR_TOKEN}"})
    app.include_router(usage_router(own, usage_reader(sessions), USAGE_DESCRIBED))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://exporter") as http:
        yield http


async def usage(client, account_id, month: str | None = None) -> dict:
    params = {"account_id": str(account_id), **({"month": month} if month else {})}
    response = await client.get("/platform/v1/usage", params=params, headers=OPERATOR)
    assert response.status_code == 200, response.text
    return response.json()["counts"]


async def test_each_finished_export_counts_once(consuming, operator_api, routing, sessions, events, dealer):
    fake, _ = routing
    jobs = []
    for messages in (3, 1):
        conversation = fake.conversation(dealer.account_id)
        for i in range(messages):
            conversation.message(datetime(2026, 11, 2, 12, i, tzinfo=UTC), f"Ready? #{i}")
        jobs.append(
            await request_export(
                sessions,
                events,
                account_id=dealer.account_id,
                user_id=dealer.sam_id,
                conversation_id=conversation.id,
                since=None,
                until=None,
                time_zone="America/Toronto",
            )
        )
    # An export of a conversation routing does not have fails: not billed.
    missing = await request_export(
        sessions,
        events,
        account_id=dealer.account_id,
        user_id=dealer.sam_id,
        conversation_id=uuid4(),
        since=None,
        until=None,
        time_zone=None,
    )
    for job in [*jobs, jobs[0], missing]:  # the first request delivered twice
        await consuming(requested_event(job))

    for _ in range(200):
        counts = await usage(operator_api, dealer.account_id)
        if counts["exports"] >= 2:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)  # the redelivery and the failing one had their chance
    assert await usage(operator_api, dealer.account_id) == {"exports": 2, "export_pages": 2}
    assert await usage(operator_api, dealer.account_id, "2025-01") == {"exports": 0, "export_pages": 0}
    assert (await usage(operator_api, uuid4()))["exports"] == 0


async def test_only_an_operator_token_reads_usage(operator_api, dealer):
    params = {"account_id": str(dealer.account_id)}
    for headers in ({}, dealer.admin, {"authorization": "Bearer nope"}):
        refused = await operator_api.get("/platform/v1/usage", params=params, headers=headers)
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
