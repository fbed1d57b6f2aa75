"""Logging as every service sets it up (shared.telemetry.setup_logging): a line at a level that is
off never enters structlog's processor chain (one level check, not a built and dropped event);
a line at a level that is on is still written whole, and a library logger's own level holds."""

import json
import logging

import pytest
import structlog

from shared.settings import HttpProcessSettings
from shared.telemetry import LevelGatedLogger, setup_logging


@pytest.fixture
def processed(monkeypatch) -> list[str]:
    """The methods whose calls entered structlog's processor chain."""
    entered: list[str] = []
    original = structlog.stdlib.BoundLogger._process_event

    def counting(self, method_name, event, event_kw):
        entered.append(method_name)
        return original(self, method_name, event, event_kw)

    monkeypatch.setattr(structlog.stdlib.BoundLogger, "_process_event", counting)
    return entered


@pytest.fixture
def configured():
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, logging.getLogger("aiokafka").level)
    yield lambda level: setup_logging(HttpProcessSettings(service_name="levels", log_level=level))
    root.handlers[:], root.level = saved[0], saved[1]
    logging.getLogger("aiokafka").setLevel(saved[2])
    structlog.reset_defaults()


def _lines(captured: str) -> list[dict]:
    return [json.loads(line) for line in captured.splitlines() if line.startswith("{")]


def test_a_level_that_is_off_costs_no_processing_and_writes_nothing(configured, processed, capfd):
    configured("WARNING")
    log = structlog.get_logger("per.request")
    log.debug("per message", n=1)
    log.info("per request", n=2)
    log.log(logging.INFO, "per request, by number", n=3)
    assert processed == []
    log.warning("kept", n=4)
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("kept with its traceback")
    assert processed == ["warning", "exception"]
    lines = _lines(capfd.readouterr().err)
    assert [(line["event"], line["level"], line["service"]) for line in lines] == [
        ("kept", "warning", "levels"),
        ("kept with its traceback", "error", "levels"),
    ]
    assert lines[0]["n"] == 4 and "ValueError: boom" in lines[1]["exception"]


def test_a_level_that_is_on_is_written_as_before(configured, processed, capfd):
    configured("INFO")
    log = structlog.get_logger("per.request").bind(account="a1")
    log.debug("still off")
    log.info("per request", n=2)
    assert processed == ["info"]
    (line,) = _lines(capfd.readouterr().err)
    assert (line["event"], line["level"], line["logger"], line["account"], line["n"]) == (
        "per request",
        "info",
        "per.request",
        "a1",
        2,
    )


def test_a_loggers_own_level_is_what_gates_it(configured, processed, capfd):
    configured("INFO")  # aiokafka is kept at WARNING by setup_logging
    assert isinstance(structlog.get_logger("aiokafka").bind(), LevelGatedLogger)
    structlog.get_logger("aiokafka").info("chatter")
    structlog.get_logger("ours").info("ours")
    assert processed == ["info"]
    assert [line["logger"] for line in _lines(capfd.readouterr().err)] == ["ours"]
