"""Starts the services as real processes, waits until they are ready, stops them gracefully.
Used by `make run` and by the end-to-end tests."""

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

SERVICES = {
    "ingest": 8081,
    "routing": 8082,
    "notifier": 8083,
    "search": 8084,
    "exporter": 8085,
    "web": 8080,
}


def service_urls(ports: dict[str, int]) -> dict[str, str]:
    """Where each service finds the others (`ROUTING_URL`...), for the ports they were given."""
    return {
        f"{name.upper()}_URL": f"http://127.0.0.1:{port}"
        for name, port in ports.items()
        if name in ("routing", "notifier", "search", "exporter", "ingest")
    }


@dataclass
class ServiceProcess:
    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**os.environ, **self.env, "HTTP_PORT": str(self.port), "SERVICE_NAME": self.name}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.name, "serve"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float | None = None) -> None:
        # SERVICE_READY_SECONDS: a machine shared by many test runs may need longer than a minute.
        timeout = timeout if timeout is not None else float(os.environ.get("SERVICE_READY_SECONDS", "60"))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.log_path}")
            try:
                response = httpx.get(f"{self.url}/readyz", timeout=2)
            except httpx.HTTPError:
                response = None
            if response is not None and response.status_code == 200:
                answered_by = response.json().get("service")
                if answered_by != self.name:
                    raise RuntimeError(f"port {self.port} is answered by {answered_by}, not {self.name}")
                return
            time.sleep(0.2)
        raise TimeoutError(f"{self.name} not ready after {timeout}s; see {self.log_path}")

    def stop(self, timeout: float = 20.0) -> int | None:
        if not self.process or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def start_services(
    env: dict[str, str],
    log_dir: Path,
    ports: dict[str, int] | None = None,
    names: list[str] | None = None,
) -> dict[str, ServiceProcess]:
    ports = ports or SERVICES
    env = {**service_urls(ports), **env}
    started = {
        name: ServiceProcess(name, ports[name], env, log_dir / f"{name}.log")
        for name in (names or list(SERVICES))
    }
    for service in started.values():
        service.start()
    try:
        for service in started.values():
            service.wait_ready()
    except Exception:
        stop_services(started)
        raise
    return started


def stop_services(services: dict[str, ServiceProcess]) -> None:
    for service in services.values():
        if service.process and service.process.poll() is None:
            service.process.send_signal(signal.SIGTERM)
    for service in services.values():
        service.stop()
