"""Small helpers plugins share for honest, bounded health checks."""

from __future__ import annotations

import socket
from urllib.parse import urlparse

from floe.plugins.base import HealthState, HealthStatus


def tcp_reachable(url: str, timeout: float) -> HealthStatus:
    parsed = urlparse(url)
    host = parsed.hostname or "127.0.0.1"
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=min(timeout, 3.0)):
            return HealthStatus(HealthState.HEALTHY, f"{host}:{port} accepts connections")
    except OSError as exc:
        return HealthStatus(HealthState.UNHEALTHY, f"{host}:{port} unreachable: {exc.strerror or exc}")


def http_ok(url: str, timeout: float, *, headers: dict[str, str] | None = None) -> HealthStatus:
    import httpx

    try:
        resp = httpx.get(url, timeout=min(timeout, 4.0), headers=headers)
    except httpx.HTTPError as exc:
        return HealthStatus(HealthState.UNHEALTHY, f"GET {url} failed: {type(exc).__name__}: {exc}")
    if resp.status_code < 400:
        return HealthStatus(HealthState.HEALTHY, f"GET {url}: {resp.status_code}")
    return HealthStatus(HealthState.UNHEALTHY, f"GET {url}: HTTP {resp.status_code}")
