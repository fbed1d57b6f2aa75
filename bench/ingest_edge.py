"""Speed at the edge (issue 17, goal 1), measured with a native load generator: wrk (1 thread,
32 connections, 10 s by default) posting signed Twilio inbound webhooks, each with its own
MessageSid, to three servers side by side in one run, rounds alternated so drift on the shared
host hits each alike:

1. a bare FastAPI app (bench/bare_fastapi_server.py: one route reading the form, no middleware),
   one uvicorn process;
2. ingest's own stack with no checks (bench/ingest_bare_server.py: build_app, shared.runner);
3. ingest `POST /webhooks/twilio/sms` (signature, dedupe claim in PostgreSQL, Kafka ack).

The bodies are signed beforehand in Python (HMAC-SHA1 of the URL and sorted parameters with the
demo auth token) into a file the Lua script turns into requests at wrk's start and cycles
through, so wrk's own cost per request stays a buffer copy. Each ingest round gets bodies of its
own, enough for 12,000 a second (more than any server here answers), so no saturated round sends
a body twice (a duplicate, a cheaper request; a round that did would say how many); what ingest
accepted is counted in its `received_webhooks` table. Per server: requests/s, p50/p99 (wrk), CPU
ms per request from /proc (for ingest also PostgreSQL's backends of the run's database and the
Kafka broker). Then ingest at half the median saturated rate (Lua `delay()` on one Poisson schedule),
for the p99 target.

    .venv/bin/python bench/ingest_edge.py [--seconds 10] [--connections 32] [--rounds 3] [--profile]
                                          [--before REV]

`--before REV` runs a second ingest beside the first, from the tree at REV (a `git archive` copy
on its own PYTHONPATH; the same database, topics of its own), and alternates it in every round:
the before/after ratio of one run, both against the same stack.

`--profile` records py-spy flame graphs of ingest and of the bare stack during one more saturated
run each (build/profile-ingest-edge-*.svg; py-spy from `pip install --target /tmp/pyspy py-spy`).
Targets: ingest >= 50 % of the stack, the stack >= 60 % of bare FastAPI, p99 < 50 ms at half rate.
Baseline (issue 17, Python client gone): FastAPI 4,100-6,800/s, stack 1,700-2,400/s, ingest
140-220/s (p99 350-690 ms).
"""

import argparse
import asyncio
import datetime
import os
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import asyncpg
import httpx
from environment import ROOT, CpuMeter, bench_environment, dsn, pids_matching, start_server
from prometheus_client.parser import text_string_to_metric_families

from devtools import demo
from devtools.carrier_simulator.twilio import inbound_sms_form, sign
from devtools.processes import ServiceProcess
from shared.testing.ports import free_port

PYSPY = Path(shutil.which("py-spy") or "/tmp/pyspy/bin/py-spy")  # noqa: S108
WRK_INSTALL = "wrk is missing: install the Debian package (as root: apt-get install -y wrk)"
SERVERS = ("fastapi", "stack", "ingest")
LABELS = {
    "fastapi": "bare FastAPI app (no middleware)",
    "stack": "ingest's stack, no checks",
    "ingest": "ingest /webhooks/twilio/sms",
    "before": "ingest at --before",
    "ingest_half": "ingest at half the saturated rate",
    "before_half": "ingest at --before, half rate",
}
INGESTS = ("ingest", "before")
# Signed bodies written per second of an ingest run at saturation (see run()).
MAX_RATE = 12_000

# Lines of "<signature>\t<form body>" become ready requests at wrk's start; `delay()` (only
# when a rate is asked) places them on one schedule at that rate (DELAY_ON_SCHEDULE).
LUA = """
local path = "{path}"
local file = "{file}"
local prepared = {{}}
local index = 0
init = function(args)
  for line in io.lines(file) do
    local tab = line:find("\\t", 1, true)
    prepared[#prepared + 1] = wrk.format("POST", path, {{
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["X-Twilio-Signature"] = line:sub(1, tab - 1),
    }}, line:sub(tab + 1))
  end
end
request = function()
  index = index + 1
  if index > #prepared then index = 1 end
  return prepared[index]
end
{delay}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRKRESULT %d %d %d %d %d %d %d %d %d %d\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, e.connect, e.read, e.write, e.timeout, e.status))
end
"""


# One schedule for the whole run, open loop: wrk's `delay()` counts from the previous answer on
# the connection, so gaps drawn per connection fall behind by the server's latency (600/s asked
# over 64 connections with answers of ~8 ms posted 553/s). Here each free connection takes the
# next instant of a Poisson process at the rate (monotonic clock through LuaJIT's FFI) and waits
# only what is left of it; when every connection is waiting for an answer, the schedule runs late
# and the run shows posted < asked.
DELAY_ON_SCHEDULE = """local ffi = require("ffi")
ffi.cdef[[
typedef struct {{ long tv_sec; long tv_nsec; }} paced_timespec;
int clock_gettime(int clock_id, paced_timespec *now);
]]
local clock = ffi.new("paced_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, clock)  -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end
local mean_gap = {gap_ms}
local next_at = nil
delay = function()
  local now = now_ms()
  if next_at == nil then next_at = now end
  next_at = next_at - math.log(1 - math.random()) * mean_gap
  local wait = next_at - now
  if wait < 0 then return 0 end
  return math.floor(wait)
end"""


def _delay(rate: float) -> str:
    return DELAY_ON_SCHEDULE.format(gap_ms=f"{1000 / rate:.6f}") if rate > 0 else ""


def write_bodies(path: Path, url: str, count: int, tag: str) -> None:
    """`count` signed inbound texts for `url`, each its own MessageSid (and sender)."""
    with path.open("w") as out:
        for index in range(count):
            form = inbound_sms_form(
                demo.TWILIO_ACCOUNT_SID,
                f"+1438{index % 10_000_000:07d}",
                demo.DEALERSHIP_NUMBER,
                f"edge {tag} {index}",
            )
            out.write(f"{sign(demo.TWILIO_AUTH_TOKEN, url, form)}\t{urlencode(form)}\n")


def run_wrk(
    base: str,
    path: str,
    bodies: Path,
    seconds: float,
    connections: int,
    rate: float = 0,
) -> dict:
    """As fast as the connections go, or `rate` requests a second on one schedule (open loop)."""
    script = bodies.with_suffix(".lua")
    script.write_text(LUA.format(path=path, file=bodies, delay=_delay(rate)))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    completed = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s", "-s", str(script), base],
        capture_output=True,
        text=True,
        timeout=seconds + 120,
        check=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next(line for line in completed.stdout.splitlines() if line.startswith("WRKRESULT"))
    n, duration_us, p50, p99, top, *errors = (int(v) for v in line.split()[1:])
    return {
        "requests": n,
        "per_s": n / (duration_us / 1e6),
        "p50_ms": p50 / 1000,
        "p99_ms": p99 / 1000,
        "max_ms": top / 1000,
        "errors": {
            k: v for k, v in zip(("connect", "read", "write", "timeout", "non-2xx"), errors, strict=True) if v
        },
        "wrk_cpu_ms_per_req": ((after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime))
        * 1000
        / max(1, n),
    }


async def _count_received(database_url: str) -> int:
    connection = await asyncpg.connect(dsn(database_url))
    try:
        return await connection.fetchval("SELECT count(*) FROM ingest.received_webhooks")
    finally:
        await connection.close()


def _publish_counters(url: str) -> tuple[float, float, float]:
    """ingest's own count of records published in order, of their batches (one per claim group)
    and the batches' seconds until Kafka's last ack, from its /metrics."""
    text = httpx.get(f"{url}/metrics", timeout=10).text
    records = batches = seconds = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "switchboard_kafka_published_records_total":
                records += sample.value
            elif sample.name == "switchboard_kafka_publish_batch_seconds_count":
                batches += sample.value
            elif sample.name == "switchboard_kafka_publish_batch_seconds_sum":
                seconds += sample.value
    return records, batches, seconds


def profile(pid: int, output: Path, seconds: float, drive, fmt: str = "flamegraph") -> None:
    """py-spy records `pid` while `drive()` loads it; a flame graph lands in `output`."""
    if not PYSPY.exists():
        print(f"[profile] {PYSPY} missing: pip install --target /tmp/pyspy py-spy", flush=True)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    spy = subprocess.Popen(
        [
            str(PYSPY),
            "record",
            "-p",
            str(pid),
            "-d",
            str(int(seconds) + 1),
            "-r",
            "200",
            "-o",
            str(output),
            "-f",
            fmt,
            "--nonblocking",
        ],
        env={**os.environ, "PYTHONPATH": str(PYSPY.parent.parent)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    drive()
    spy.wait(60)
    print(f"[profile] {output}", flush=True)


def start_before(rev: str, environment, work: Path) -> ServiceProcess:
    """ingest from the tree at `rev` beside the environment's: a `git archive` copy first on its
    PYTHONPATH, the same database (migrated by today's tree), topics of its own."""
    copy = work / f"ingest-{rev}"
    copy.mkdir()
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(copy)], input=archive, check=True)
    env = {
        **environment.env,
        "PYTHONPATH": f"{copy / 'services' / 'ingest'}{os.pathsep}{copy}",
        "KAFKA_TOPIC_PREFIX": f"{environment.topic_prefix}before.",
    }
    before = ServiceProcess("ingest", free_port(), env, environment.log_dir / "ingest-before.log")
    before.start()
    before.wait_ready()
    return before


def run(
    seconds: float = 10,
    connections: int = 32,
    rounds: int = 3,
    with_profile: bool = False,
    profile_format: str = "flamegraph",
    before_rev: str | None = None,
) -> dict:
    if not shutil.which("wrk"):
        raise SystemExit(WRK_INSTALL)
    work = Path(tempfile.mkdtemp(prefix="ingest-edge-"))
    # Distinct texts for a saturated round above any rate met here (the stack ~9,000/s on an
    # idle 2-core machine): an ingest round that came back to a body it already sent would get
    # duplicates, cheaper requests (4,000/s a round was used up at 18:01, ~3 % duplicates).
    per_round = int(max(5000, seconds * MAX_RATE))
    servers = (*SERVERS, "before") if before_rev else SERVERS
    ingests = [name for name in INGESTS if name in servers]
    runs: dict[str, list[dict]] = {name: [] for name in (*servers, *(f"{i}_half" for i in ingests))}
    load_before = os.getloadavg()
    with bench_environment(["ingest"]) as environment:
        ingest_process = environment.services["ingest"].process
        fastapi_process, fastapi_url = start_server(
            "bare_fastapi_server.py", "bare-fastapi", environment.env, environment.log_dir
        )
        stack_process, stack_url = start_server(
            "ingest_bare_server.py", "ingest-bare", environment.env, environment.log_dir
        )
        before = start_before(before_rev, environment, work) if before_rev else None
        database = environment.database_url.rsplit("/", 1)[1]
        targets = {
            "fastapi": (fastapi_url, "/bare/webhook", fastapi_process.pid),
            "stack": (stack_url, "/bare/webhook", stack_process.pid),
            "ingest": (environment.url("ingest"), "/webhooks/twilio/sms", ingest_process.pid),
        }
        if before is not None:
            targets["before"] = (before.url, "/webhooks/twilio/sms", before.process.pid)
        counter = iter(range(10_000))
        written: dict[Path, int] = {}

        def bodies_for(tag: str, count: int = per_round, server: str = "ingest") -> Path:
            # Signed for the server's own URL (its port is part of what Twilio signs).
            path = work / f"bodies-{tag}-{next(counter)}.txt"
            url, route, _pid = targets[server]
            write_bodies(path, f"{url}{route}", count, tag)
            written[path] = count
            return path

        def measure(name: str, bodies: Path, secs: float, rate: float = 0) -> dict:
            url, route, pid = targets[name]
            groups = {"server": lambda: [pid]}
            if name in INGESTS:
                groups["postgres"] = lambda: pids_matching(f" {database} ")
                groups["kafka"] = lambda: pids_matching("kafka.Kafka")
            cpu = CpuMeter(groups)
            received = asyncio.run(_count_received(environment.database_url)) if name in INGESTS else 0
            published = _publish_counters(url) if name in INGESTS else None
            cpu.start()
            result = run_wrk(url, route, bodies, secs, connections, rate=rate)
            used = cpu.stop()
            n = max(1, result["requests"])
            result["cpu_ms_per_req"] = {
                k: v * 1000 / n for k, v in used.items() if k not in ("machine total",)
            }
            result["machine_busy"] = used["machine busy"] / max(1e-9, used["machine total"])
            if name in INGESTS:
                # Requests past the bodies written went to bodies already sent: duplicates.
                result["reused"] = max(0, result["requests"] - written[bodies])
                result["accepted"] = asyncio.run(_count_received(environment.database_url)) - received
                records, batches, ack_seconds = (
                    b - a for a, b in zip(published, _publish_counters(url), strict=True)
                )
                result["group"] = records / max(1.0, batches)
                result["ack_ms"] = ack_seconds / max(1.0, batches) * 1000
            return result

        try:
            print(
                f"[run] {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, wrk -t1 -c{connections} "
                f"-d{seconds:g}s, {rounds} rounds, load average {load_before[0]:.2f}"
                + (f", before = {before_rev}" if before_rev else ""),
                flush=True,
            )
            warm = bodies_for("warm", 2000)
            for name in servers:
                bodies = bodies_for(f"warm-{name}", 2 * MAX_RATE, name) if name in INGESTS else warm
                measure(name, bodies, 2)
            shared_bodies = bodies_for("bare")
            for round_no in range(rounds):
                # The two ingests swap places every round, so neither always follows the stack.
                order = list(servers)
                if before is not None and round_no % 2:
                    order[-2:] = order[-1:-3:-1]
                for name in order:
                    bodies = bodies_for(f"r{round_no}", server=name) if name in INGESTS else shared_bodies
                    result = measure(name, bodies, seconds)
                    runs[name].append(result)
                    print(f"[round {round_no + 1}/{rounds}] {name}: {_line(result)}", flush=True)
            for name in ingests:
                runs[f"{name}_half"] = []
            half = statistics.median(r["per_s"] for r in runs["ingest"]) / 2
            for round_no in range(rounds):
                for name in ingests if round_no % 2 == 0 else ingests[::-1]:
                    # The same rate asked of both, on one schedule.
                    result = measure(
                        name,
                        bodies_for(f"h{round_no}", int(max(5000, seconds * half * 1.5)), name),
                        seconds,
                        rate=half,
                    )
                    runs[f"{name}_half"].append(result)
                    print(
                        f"[half {round_no + 1}/{rounds}] {name} at ~{half:.0f}/s: {_line(result)}", flush=True
                    )
            if with_profile:
                for name in ("ingest", "stack"):
                    bodies = bodies_for(f"p{name}") if name == "ingest" else shared_bodies
                    profile(
                        targets[name][2],
                        ROOT
                        / "build"
                        / f"profile-ingest-edge-{name}.{'svg' if profile_format == 'flamegraph' else 'txt'}",
                        seconds,
                        lambda name=name, bodies=bodies: measure(name, bodies, seconds),
                        profile_format,
                    )
        finally:
            for process in (fastapi_process, stack_process):
                process.terminate()
                process.wait(20)
            if before is not None:
                before.stop()
            shutil.rmtree(work, ignore_errors=True)
    result = summarize(runs, seconds, connections, rounds, load_before, os.getloadavg())
    report(result)
    return result


def _line(r: dict) -> str:
    cpu = ", ".join(f"{k} {v:.2f}" for k, v in r["cpu_ms_per_req"].items() if k != "machine busy")
    reused = f", {r['reused']} bodies sent twice" if r.get("reused") else ""
    accepted = (
        f", accepted {r['accepted']} (groups of {r['group']:.1f}, Kafka ack {r['ack_ms']:.1f} ms{reused})"
        if "accepted" in r
        else ""
    )
    return (
        f"{r['per_s']:.0f}/s, p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, {r['requests']} requests"
        f"{accepted}, errors {r['errors'] or 'none'}, CPU ms/req: {cpu}, machine busy {r['machine_busy']:.0%}"
    )


def summarize(runs: dict[str, list[dict]], seconds, connections, rounds, load_before, load_after) -> dict:
    def med(name: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[name])

    def med_cpu(name: str, key: str) -> float:
        return statistics.median(r["cpu_ms_per_req"].get(key, 0.0) for r in runs[name])

    def per_round(name: str, base: str) -> list[float]:
        # Ratios per round (the servers measured next to each other), then their median.
        return [a["per_s"] / b["per_s"] for a, b in zip(runs[name], runs[base], strict=True)]

    summary = {
        "seconds": seconds,
        "connections": connections,
        "rounds": rounds,
        "load_average": (load_before[0], load_after[0]),
        "stack_to_fastapi": statistics.median(per_round("stack", "fastapi")),
        "ingest_to_stack": statistics.median(per_round("ingest", "stack")),
        "ingest_to_stack_rounds": per_round("ingest", "stack"),
        "runs": runs,
    }
    if "before" in runs:
        summary["before_to_stack"] = statistics.median(per_round("before", "stack"))
        summary["before_to_stack_rounds"] = per_round("before", "stack")
        summary["ingest_to_before"] = statistics.median(per_round("ingest", "before"))
    for name in runs:
        summary[name] = {
            "per_s": med(name, "per_s"),
            "p50_ms": med(name, "p50_ms"),
            "p99_ms": med(name, "p99_ms"),
            "cpu_ms": med_cpu(name, "server"),
            "all_per_s": [r["per_s"] for r in runs[name]],
            "all_p99_ms": [r["p99_ms"] for r in runs[name]],
        }
        if name.split("_")[0] in INGESTS:
            summary[name]["postgres_cpu_ms"] = med_cpu(name, "postgres")
            summary[name]["kafka_cpu_ms"] = med_cpu(name, "kafka")
            summary[name]["accepted"] = sum(r["accepted"] for r in runs[name])
            summary[name]["requests"] = sum(r["requests"] for r in runs[name])
    return summary


def report(s: dict) -> None:
    print()
    print(
        f"== ingest at the edge, wrk -t1 -c{s['connections']} -d{s['seconds']:g}s, {s['rounds']} rounds "
        f"alternated, medians (load average {s['load_average'][0]:.1f} -> {s['load_average'][1]:.1f}, "
        f"{os.cpu_count()} CPUs shared with PostgreSQL, Kafka, wrk and other work) =="
    )
    print(f"  {'server':<34} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/req':>11}   all rounds req/s")
    for name in s["runs"]:
        row = s[name]
        rounds = ", ".join(f"{v:.0f}" for v in row["all_per_s"])
        print(
            f"  {LABELS[name]:<34} {row['per_s']:8.0f} {row['p50_ms']:8.1f} {row['p99_ms']:8.1f} "
            f"{row['cpu_ms']:11.3f}   {rounds}"
        )
    for name in INGESTS:
        if name in s["runs"]:
            row = s[name]
            print(
                f"  {LABELS[name]} accepted {row['accepted']} of {row['requests']} saturated requests; "
                f"per request also PostgreSQL {row['postgres_cpu_ms']:.2f} ms, Kafka broker "
                f"{row['kafka_cpu_ms']:.2f} ms of CPU"
            )
    rounds = ", ".join(f"{v:.2f}" for v in s["ingest_to_stack_rounds"])
    print(
        f"  ratio stack / bare FastAPI {s['stack_to_fastapi']:.2f} (target >= 0.60); ingest / stack "
        f"{s['ingest_to_stack']:.2f} (target >= 0.50; rounds {rounds}); ingest p99 at half rate "
        f"{s['ingest_half']['p99_ms']:.1f} ms "
        f"(target < 50; rounds {', '.join(f'{v:.0f}' for v in s['ingest_half']['all_p99_ms'])})"
    )
    if "before" in s["runs"]:
        rounds = ", ".join(f"{v:.2f}" for v in s["before_to_stack_rounds"])
        print(
            f"  side by side: --before / stack {s['before_to_stack']:.2f} (rounds {rounds}); "
            f"ingest / --before {s['ingest_to_before']:.2f}; "
            f"--before p99 at half rate {s['before_half']['p99_ms']:.1f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--before", metavar="REV", help="a second ingest from this git revision, alternated")
    parser.add_argument("--profile", action="store_true", help="py-spy flame graphs of ingest and the stack")
    parser.add_argument(
        "--profile-format",
        choices=("flamegraph", "raw"),
        default="flamegraph",
        help="raw: folded stacks (.txt)",
    )
    args = parser.parse_args()
    run(args.seconds, args.connections, args.rounds, args.profile, args.profile_format, args.before)


if __name__ == "__main__":
    main()
