"""`make run`: the whole system on this machine until Ctrl-C."""

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from devtools import demo
from devtools.processes import SERVICES, ServiceProcess, start_services, stop_services
from shared.http.operator_auth import hash_operator_token

ROOT = Path(__file__).resolve().parent.parent
STATE = Path(os.environ.get("SWITCHBOARD_STATE_DIR", ROOT / ".state"))
SIMULATOR_PORT = 8089
SIMULATOR_URL = f"http://127.0.0.1:{SIMULATOR_PORT}"


def taken_ports(ports: list[int]) -> list[str]:
    """The ports someone already listens on, each with who (infra/port-holder.sh: another
    Switchboard clone's folder and how to stop it, or the process)."""
    result = subprocess.run(
        ["bash", str(ROOT / "infra" / "port-holder.sh"), *map(str, ports)],
        capture_output=True,
        text=True,
        check=False,
    )
    return [line for line in result.stdout.splitlines() if line.strip()]


def left_running() -> str:
    """What Ctrl-C leaves running (this clone's Kafka and PostgreSQL, not external ones) and how
    to stop it."""
    kept = []
    for script, what in (("kafka.sh", "Kafka"), ("postgres.sh", "PostgreSQL")):
        status = subprocess.run(
            ["bash", str(ROOT / "infra" / script), "status"], capture_output=True, text=True, check=False
        )
        if status.stdout.strip() == "running":
            kept.append(what)
    if not kept:
        return "stopped."
    where = {
        "Kafka": f"Kafka on :{os.environ.get('SWITCHBOARD_KAFKA_PORT', '9092')}",
        "PostgreSQL": f"PostgreSQL on :{os.environ.get('SWITCHBOARD_PG_PORT', '55432')}",
    }
    return (
        f"stopped. {' and '.join(where[name] for name in kept)} keep running (state in {STATE}), "
        f"for the next `make run` or `make test`.\nStop them with: make -C {ROOT} stop-infra"
    )


def local_operator_token() -> str:
    """This clone's operator token for /platform/v1, kept in .state so it stays the same from one
    `make run` to the next (the services are given only its digest)."""
    path = STATE / "operator-token"
    if not path.exists():
        STATE.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(32) + "\n")
    return path.read_text().strip()


def main() -> None:
    logs = STATE / "logs"
    operator_token = local_operator_token()
    env = {
        "LOG_FORMAT": os.environ.get("LOG_FORMAT", "json"),
        "SMTP_PORT": os.environ.get("SMTP_PORT", "1025"),
        # notifier sends texts to the carrier simulator, which posts status callbacks to ingest.
        "TWILIO_API_BASE_URL": os.environ.get("TWILIO_API_BASE_URL", SIMULATOR_URL),
        "TELNYX_API_BASE_URL": os.environ.get("TELNYX_API_BASE_URL", SIMULATOR_URL),
        "CARRIER_CALLBACK_BASE_URL": os.environ.get("CARRIER_CALLBACK_BASE_URL", "http://127.0.0.1:8081"),
        # Invitation and password-reset e-mails link to the web inbox.
        "APP_BASE_URL": os.environ.get("APP_BASE_URL", f"http://127.0.0.1:{SERVICES['web']}"),
        # The platform operator API (routing's /platform/v1) and usage endpoints.
        "OPERATOR_TOKENS": f"local={hash_operator_token(operator_token)}",
    }
    taken = taken_ports([*SERVICES.values(), SIMULATOR_PORT, int(env["SMTP_PORT"])])
    if taken:
        print("make run cannot start: ports it needs are taken:", file=sys.stderr)
        for line in taken:
            print(f"  :{line}", file=sys.stderr)
        sys.exit(1)
    subprocess.run([sys.executable, "-m", "devtools.migrate"], check=True)
    subprocess.run([sys.executable, "-m", "devtools.seed"], check=True)
    logs.mkdir(parents=True, exist_ok=True)
    helpers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "devtools.smtp_sink",
                "--port",
                env["SMTP_PORT"],
                "--dir",
                str(STATE / "mail"),
            ],
            stdout=(logs / "smtp.log").open("ab"),
            stderr=subprocess.STDOUT,
        ),
        subprocess.Popen(
            [sys.executable, "-m", "devtools.carrier_simulator", "serve"],
            stdout=(logs / "carrier_simulator.log").open("ab"),
            stderr=subprocess.STDOUT,
        ),
    ]
    services: dict[str, ServiceProcess] = {}
    try:
        services = start_services(env, logs)
        print_table(operator_token)
        stop = {"now": False}
        signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
        while not stop["now"]:
            for name, service in services.items():
                if service.process and service.process.poll() is not None:
                    print(f"{name} exited ({service.process.returncode}); see {service.log_path}")
                    stop["now"] = True
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        print("\nstopping…")
        stop_services(services)
        for helper in helpers:
            helper.terminate()
            helper.wait(10)
        print(left_running())


def print_table(operator_token: str) -> None:
    rows = [
        (name, f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port}/docs")
        for name, port in SERVICES.items()
        if name != "web"
    ]
    rows += [
        ("carrier simulator", "http://127.0.0.1:8089", "http://127.0.0.1:8089/docs"),
        ("SMTP sink", "127.0.0.1:1025", ".state/mail/*.eml"),
        ("Kafka", os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092"), ""),
        ("PostgreSQL", os.environ.get("DATABASE_URL", "127.0.0.1:55432/switchboard"), ""),
    ]
    print("\nSwitchboard is running\n")
    print(f"  Web inbox: http://127.0.0.1:{SERVICES['web']}/")
    print(f"  Sign in as {demo.ADMIN_EMAIL} or {demo.AGENT_EMAIL}, password {demo.PASSWORD}\n")
    for name, where, docs in rows:
        print(f"  {name:<18} {where:<40} {docs}")
    print(f"\noperator token: {operator_token}  (also in {STATE / 'operator-token'}; for /platform/v1)")
    print(
        f"""
Log in:   curl -s -XPOST localhost:8082/api/v1/auth/login -H 'content-type: application/json' \\
            -d '{{"email": "{demo.ADMIN_EMAIL}", "password": "{demo.PASSWORD}"}}'
Text in:  curl -s -XPOST localhost:8089/simulate/sms -H 'content-type: application/json' \\
            -d '{{"from": "+15145551234", "body": "Is my car ready?"}}'
Live:     curl -N "localhost:8083/api/v1/notifications/stream?access_token=$TOKEN"
Inbox:    curl -s localhost:8082/api/v1/conversations -H "authorization: Bearer $TOKEN"
Operator: curl -s localhost:8082/platform/v1/dealerships -H "authorization: Bearer $OPERATOR_TOKEN"
Ctrl-C stops the services, the simulator and the SMTP sink; Kafka and PostgreSQL keep running
(`make stop-infra` stops them).
""",
        flush=True,
    )


if __name__ == "__main__":
    main()
