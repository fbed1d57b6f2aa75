"""Free local TCP ports for services started by tests, benchmarks and the simulator."""

import contextlib
import socket


def free_ports(count: int) -> list[int]:
    """`count` distinct ports: every socket stays bound until all are chosen, so the kernel
    cannot hand the same port out twice (which it may do to sockets bound one after another)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


def free_port() -> int:
    return free_ports(1)[0]


def free_ports_for(names: list[str]) -> dict[str, int]:
    return dict(zip(names, free_ports(len(names)), strict=True))
