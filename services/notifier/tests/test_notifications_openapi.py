"""The notifier's documented contracts: each staff route has a summary, a response model and
its error responses; the AsyncAPI document lists every topic notifications are made from."""

import httpx

from notifier.app import create_app
from notifier.consumers.live import LIVE_TOPICS
from notifier.settings import NotifierSettings

OURS = ("/api/v1/notifications", "/api/v1/notification-preferences", "/api/v1/notification-settings")


async def test_openapi_documents_every_notification_route():
    app = create_app(NotifierSettings())
    spec = app.openapi()
    routes = {path: ops for path, ops in spec["paths"].items() if path.startswith(OURS)}
    assert len(routes) == 7
    for path, operations in routes.items():
        for method, operation in operations.items():
            assert operation.get("summary"), (method, path)
            assert "401" in operation["responses"] and "403" in operation["responses"], (method, path)
            if not path.endswith("/stream"):
                schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
                assert "$ref" in schema, (method, path)
    feed_item = spec["components"]["schemas"]["Notification"]["properties"]
    assert feed_item["data"]["description"] and feed_item["read_at"]["description"]


async def test_asyncapi_lists_the_topics_notifications_come_from():
    app = create_app(NotifierSettings())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://notifier"
    ) as client:
        document = (await client.get("/asyncapi.json")).json()
    channels = " ".join(document["channels"])
    for topic in (
        "conversation.message_received.v1",
        "conversation.assigned.v1",
        "conversation.note_added.v1",
        "conversation.delivery_failed.v1",
        "export.completed.v1",
    ):
        assert topic in channels, topic


async def test_openapi_documents_the_live_stream_and_presence():
    spec = create_app(NotifierSettings()).openapi()
    live = spec["paths"]["/api/v1/live"]["get"]
    assert {"401", "403", "503"} <= set(live["responses"])
    assert "`<change id>-<notification id>`" in live["description"]
    header = next(p for p in live["parameters"] if p["in"] == "header")
    assert header["name"] == "last-event-id"
    assert not any(p["in"] == "query" for p in live["parameters"])  # no token in the URL
    typing = spec["paths"]["/api/v1/presence/typing"]["post"]
    assert {"204", "401", "403", "422"} <= set(typing["responses"])
    body = typing["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert spec["components"]["schemas"][body]["required"] == ["conversation_id"]


async def test_asyncapi_lists_the_topics_the_live_feed_reads():
    app = create_app(NotifierSettings())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://notifier"
    ) as client:
        document = (await client.get("/asyncapi.json")).json()
    channels = " ".join(document["channels"])
    for topic in LIVE_TOPICS:
        assert f"notifier-live:{topic.name}" in channels, topic.name
    assert {"conversation.read.v1", "conversation.message_status_changed.v1"} <= {t.name for t in LIVE_TOPICS}
