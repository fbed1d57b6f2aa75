"""Launching services on free ports: distinct ports, and a port answered by another process is
noticed instead of being taken for the service."""

import asyncio

import pytest
from fastapi import FastAPI

from devtools.processes import ServiceProcess
from shared.testing.http_server import serving
from shared.testing.ports import free_ports


def test_ports_chosen_together_are_distinct():
    ports = free_ports(50)
    assert len(set(ports)) == 50


async def test_a_port_answered_by_another_service_is_refused(tmp_path):
    squatter = FastAPI()

    @squatter.get("/readyz")
    async def readyz() -> dict:
        return {"service": "routing", "ready": True, "checks": {}}

    async with serving(squatter) as url:
        port = int(url.rsplit(":", 1)[1])
        expected = ServiceProcess("search", port, {}, tmp_path / "search.log")
        with pytest.raises(RuntimeError, match="answered by routing, not search"):
            await asyncio.to_thread(expected.wait_ready, 5)
        itself = ServiceProcess("routing", port, {}, tmp_path / "routing.log")
        await asyncio.to_thread(itself.wait_ready, 5)
