"""The one TCP reachability check behind plugin health checks, telemetry and lineage."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from floe._net import reachable, tcp_probe


@pytest.fixture
def listening() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield int(s.getsockname()[1])


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_open_and_closed_ports(listening: int) -> None:
    assert tcp_probe(f"http://127.0.0.1:{listening}/v1/traces") == (f"127.0.0.1:{listening}", None)
    assert reachable(f"127.0.0.1:{listening}")  # bare host:port, as OTLP endpoints are often written
    dead = _dead_port()
    where, error = tcp_probe(f"http://127.0.0.1:{dead}")
    assert where == f"127.0.0.1:{dead}" and error
    assert not reachable(f"http://127.0.0.1:{dead}")


def test_default_ports_and_bad_urls(listening: int) -> None:
    assert tcp_probe("http://127.0.0.1", 0.2, default_port=listening)[1] is None  # e.g. OTLP's 4317
    assert tcp_probe("https://127.0.0.1", 0.2)[0] == "127.0.0.1:443"
    assert tcp_probe("http://127.0.0.1", 0.2)[0] == "127.0.0.1:80"
    where, error = tcp_probe("http://127.0.0.1:99999")
    assert where == "127.0.0.1:?" and error is not None and "range" in error
