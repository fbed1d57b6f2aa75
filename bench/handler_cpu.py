"""CPU per text of the consumers that run at the inbound rate, side by side with an earlier
version of the same code (issue 17, goal 2): the handlers called in-process on batches of texts
against a fresh migrated, seeded database, no Kafka, so the figure is the handler's own work
(Python, and the PostgreSQL backend serving it) and not the broker's or the machine's.

For each batch size, rounds alternate between the code at `--before` (its files read from git and
loaded as modules beside the current ones) and the working tree's; each round handles `--texts`
new texts from `--senders` customers (most in an open conversation, as in a dealership's day;
for routing also the case "new": every text a new customer's first, as at the start of a burst),
and reports CPU ms per text of this process (time.process_time) and of its database backend
(/proc), with statements per text (pg_stat_database's transaction counts are too coarse, so the
executions are counted: SQLAlchemy's, and those routing sends straight through asyncpg, a
pipelined batch of them as one).

    .venv/bin/python bench/handler_cpu.py [--before REV] [--texts 400] [--batches 1,10,50]
        [--rounds 3] [--senders 200] [--only routing|notifier] [--cases known,new]

Baseline: the code at `--before` (default: the commit before issue 17's per-statement work on
these handlers)."""

import argparse
import asyncio
import contextlib
import importlib.util
import os
import secrets
import statistics
import subprocess
import sys
import time
import types
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from uuid import NAMESPACE_URL, uuid4, uuid5

from environment import ROOT, _admin_sql, pids_matching, process_cpu_seconds
from sqlalchemy import event as sa_event
from sqlalchemy import text
from sqlalchemy.engine import make_url

from devtools import demo
from devtools.migrate import migrate_all
from devtools.seed import seed_demo
from shared.contracts.carrier import CarrierInbound
from shared.db.engine import create_engine, create_session_factory
from shared.kafka.consumer import event_trace
from shared.settings import ServiceSettings
from shared.telemetry import setup_logging

BEFORE = "1d4cc7d"
ADMIN_ID = None  # the demo dealership's admin, told of unassigned texts
BASE_DATABASE_URL = os.environ.get(
    "DATABASE_URL",
    f"postgresql+asyncpg://switchboard:switchboard@127.0.0.1:{os.environ.get('SWITCHBOARD_PG_PORT', '55432')}"
    "/switchboard",
)


def module_at(rev: str, path: str, name: str) -> types.ModuleType:
    """The module at `path` as it was at `rev`, loaded under `name` (its imports resolve to the
    working tree's modules)."""
    source = subprocess.run(
        ["git", "show", f"{rev}:{path}"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    spec = importlib.util.spec_from_loader(name, loader=None)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    exec(compile(source, f"{rev}:{path}", "exec"), module.__dict__)  # noqa: S102 - our own code at a commit
    return module


_NEW_NUMBERS = [0]  # customer numbers handed out to the "new" case so far


def texts(count: int, senders: int, tag: str, new: bool = False) -> list[CarrierInbound]:
    """`count` texts from `senders` customers in turn; `new`: each from a customer never seen
    (numbers apart from the others' range), the worst case of a burst of first texts."""
    if new:
        first = _NEW_NUMBERS[0]
        _NEW_NUMBERS[0] += count
        numbers = [f"+1438{first + index:07d}" for index in range(count)]
    else:
        numbers = [f"+1439{index % senders:07d}" for index in range(count)]
    return [
        CarrierInbound(
            account_id=demo.ACCOUNT_ID,
            carrier="twilio",
            carrier_message_id=f"SM{tag}{index:08d}",
            from_number=numbers[index],
            to_number=demo.DEALERSHIP_NUMBER,
            body=f"handler cpu {tag} {index}",
            received_at=datetime.now(UTC),
        )
        for index in range(count)
    ]


def routing_handlers(sessions, rev: str, url: str) -> dict[str, Callable[[list], Awaitable[None]]]:
    from routing.messaging.usecases.inbound_batch import record_inbound_batch

    statements = "services/routing/routing/messaging/usecases/inbound_statements.py"
    # The statements module as it was at `rev` too, when it existed: the old inbound.py binds to it.
    at_rev = (
        {"routing.messaging.usecases.inbound_statements": statements} if _exists_at(rev, statements) else {}
    )
    with modules_at(rev, at_rev):
        before = module_at(rev, "services/routing/routing/messaging/usecases/inbound.py", "inbound_before")

    async def old(events: list[CarrierInbound]) -> None:
        async with sessions.begin() as session:
            if hasattr(before, "record_inbound_batch"):
                await before.record_inbound_batch(session, events, "US")
                return
            for event in events:
                with event_trace(event):
                    await before.record_inbound_message(session, event, "US")

    async def new(events: list[CarrierInbound]) -> None:
        async with sessions.begin() as session:
            await record_inbound_batch(session, events, "US")

    return {"before": old, "now": new}


def _exists_at(rev: str, path: str) -> bool:
    return (
        subprocess.run(["git", "cat-file", "-e", f"{rev}:{path}"], cwd=ROOT, capture_output=True).returncode
        == 0
    )


@contextlib.contextmanager
def modules_at(rev: str, modules: dict[str, str]) -> Iterator[None]:
    """While open, each named module (in the given order) is the one at `rev`, in sys.modules and
    as its package's attribute, so modules loaded meanwhile bind to those versions."""
    saved = {}
    for name, path in modules.items():
        package, _, attribute = name.rpartition(".")
        parent = importlib.import_module(package)
        saved[name] = (importlib.import_module(name), parent, attribute)
        old = module_at(rev, path, f"{name}_before")
        sys.modules[name] = old
        setattr(parent, attribute, old)
    try:
        yield
    finally:
        for name, (module, parent, attribute) in saved.items():
            sys.modules[name] = module
            setattr(parent, attribute, module)


def notifier_handlers(sessions, rev: str, url: str) -> dict[str, Callable[[list], Awaitable[None]]]:
    """Both of notifier's consumers of conversation.message_received.v1: the notification rules and
    the live feed (two consumer groups, each its transaction per batch)."""
    from notifier.consumers import conversations, live
    from notifier.settings import NotifierSettings

    settings = NotifierSettings(database_url=url)
    infra = types.SimpleNamespace(sessions=sessions)
    notifier = "services/notifier/notifier"
    with modules_at(
        rev,
        {
            "notifier.repository": f"{notifier}/repository.py",
            "notifier.live_events": f"{notifier}/live_events.py",
            "notifier.usecases.notify": f"{notifier}/usecases/notify.py",
        },
    ):
        old_conversations = module_at(rev, f"{notifier}/consumers/conversations.py", "conversations_before")
        old_live = module_at(rev, f"{notifier}/consumers/live.py", "live_before")

    def both(module_conversations, module_live):
        _, consumer, drafter = module_conversations.RULES[0]
        rules = module_conversations._handler(infra, settings, consumer, drafter, lambda: None)
        feed = module_live.live_handler(sessions, settings)

        async def handle(events: list) -> None:
            await rules(events)
            await feed(events)

        return handle

    return {"before": both(old_conversations, old_live), "now": both(conversations, live)}


def received(events: list[CarrierInbound]) -> list:
    """What routing publishes for each text, as notifier gets it: nobody assigned, the admin told."""
    from shared.contracts.conversation import MessageReceived

    return [
        MessageReceived(
            account_id=event.account_id,
            conversation_id=uuid5(NAMESPACE_URL, event.from_number),
            customer_id=uuid5(NAMESPACE_URL, "customer" + event.from_number),
            message_id=uuid4(),
            customer_phone=event.from_number,
            dealership_phone=event.to_number,
            body=event.body,
            received_at=event.received_at,
            notify_user_ids=[ADMIN_ID],
        )
        for event in events
    ]


def count_driver_statements(statements: list[int]) -> None:
    """Counts routing's statements sent straight through asyncpg (routing/driver_statements.py),
    which SQLAlchemy's events do not see: one each, a pipelined executemany one too (a round trip)."""
    from routing import driver_statements

    through_session = driver_statements._driver_in_transaction

    async def counted(session):
        driver = await through_session(session)
        if driver is not None:  # else the statement goes through the session, counted there
            statements[0] += 1
        return driver

    driver_statements._driver_in_transaction = counted


HANDLERS = {"routing": (routing_handlers, lambda events: events), "notifier": (notifier_handlers, received)}


async def measure(args) -> None:
    database = f"bench_{secrets.token_hex(4)}"
    await _admin_sql(f'CREATE DATABASE "{database}"')
    url = make_url(BASE_DATABASE_URL).set(database=database).render_as_string(hide_password=False)
    try:
        await asyncio.to_thread(migrate_all, url)
        await seed_demo(url)
        # Logged as the services log in the other benchmarks (bench/environment.py: WARNING).
        setup_logging(ServiceSettings(database_url=url, log_level="WARNING", log_format="json"))
        engine = create_engine(ServiceSettings(database_url=url))
        statements = [0]
        sa_event.listen(
            engine.sync_engine,
            "before_cursor_execute",
            lambda *a: statements.__setitem__(0, statements[0] + 1),
        )
        count_driver_statements(statements)
        sessions = create_session_factory(engine)
        print(
            f"[run] {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, database {database}, before = {args.before}, "
            f"load average {os.getloadavg()[0]:.2f}",
            flush=True,
        )
        results: dict[tuple[str, int, str], list[tuple[float, float, float]]] = {}
        global ADMIN_ID
        async with sessions() as session:
            ADMIN_ID = await session.scalar(
                text("SELECT id FROM routing.users WHERE account_id = :a AND role = 'admin' LIMIT 1"),
                {"a": demo.ACCOUNT_ID},
            )
        for service, (make, as_events) in HANDLERS.items():
            if args.only and service != args.only:
                continue
            handlers = make(sessions, args.before, url)
            # Warm-up: every sender's conversation exists, statements are prepared.
            for name, handle in handlers.items():
                await handle(as_events(texts(args.senders, args.senders, f"w{name}")))
            cases = args.cases if service == "routing" else ["known"]
            for case, size in [(case, size) for case in cases for size in args.batches]:
                label = service if case == "known" else f"{service}/{case}"
                for round_no in range(args.rounds):
                    for name, handle in handlers.items():
                        batch = as_events(
                            texts(
                                args.texts,
                                args.senders,
                                f"{name[0]}{case[0]}{size}r{round_no}{secrets.token_hex(2)}",
                                new=case == "new",
                            )
                        )
                        backends = lambda: pids_matching(f" {database} ")  # noqa: E731
                        pg_before = {pid: process_cpu_seconds(pid) for pid in backends()}
                        counted = statements[0]
                        started = time.process_time()
                        for first in range(0, len(batch), size):
                            await handle(batch[first : first + size])
                        cpu = time.process_time() - started
                        pg = sum(process_cpu_seconds(pid) - pg_before.get(pid, 0.0) for pid in backends())
                        per = (
                            cpu * 1000 / len(batch),
                            pg * 1000 / len(batch),
                            (statements[0] - counted) / len(batch),
                        )
                        results.setdefault((label, size, name), []).append(per)
                        print(
                            f"[{label} batch {size} round {round_no + 1} {name}] {per[0]:.3f} ms/text, "
                            f"PostgreSQL {per[1]:.3f} ms/text, {per[2]:.2f} statements/text",
                            flush=True,
                        )
        await engine.dispose()
    finally:
        await _admin_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    print(
        f"\n== handler CPU per text, medians of {args.rounds} rounds x {args.texts} texts "
        f"(load average {os.getloadavg()[0]:.2f}) =="
    )
    print(
        f"  {'handler':<14} {'batch':>5} {'before':>8} {'now':>8} {'ratio':>6}"
        "   PostgreSQL before/now   statements before/now"
    )
    for service, size in sorted({(s, b) for s, b, _ in results}):
        old = [statistics.median(v) for v in zip(*results[(service, size, "before")], strict=True)]
        new = [statistics.median(v) for v in zip(*results[(service, size, "now")], strict=True)]
        print(
            f"  {service:<14} {size:>5} {old[0]:8.3f} {new[0]:8.3f} {new[0] / old[0]:6.2f}   "
            f"{old[1]:8.3f} / {new[1]:.3f}        {old[2]:6.2f} / {new[2]:.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--before", default=BEFORE)
    parser.add_argument("--texts", type=int, default=400)
    parser.add_argument("--batches", type=lambda v: [int(x) for x in v.split(",")], default=[1, 10, 50])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--senders", type=int, default=200)
    parser.add_argument("--only")
    parser.add_argument(
        "--cases",
        type=lambda v: v.split(","),
        default=["known", "new"],
        help="routing's texts: known (customers with an open conversation), new (first texts)",
    )
    asyncio.run(measure(parser.parse_args()))


if __name__ == "__main__":
    main()
