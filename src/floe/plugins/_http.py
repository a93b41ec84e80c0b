"""Small helpers plugins share for honest, bounded health checks."""

from __future__ import annotations

from floe._net import tcp_probe
from floe.plugins.base import HealthState, HealthStatus


def tcp_reachable(url: str, timeout: float) -> HealthStatus:
    where, error = tcp_probe(url, min(timeout, 3.0))
    if error is None:
        return HealthStatus(HealthState.HEALTHY, f"{where} accepts connections")
    return HealthStatus(HealthState.UNHEALTHY, f"{where} unreachable: {error}")


def http_ok(url: str, timeout: float, *, headers: dict[str, str] | None = None) -> HealthStatus:
    import httpx

    try:
        resp = httpx.get(url, timeout=min(timeout, 4.0), headers=headers)
    except httpx.HTTPError as exc:
        return HealthStatus(HealthState.UNHEALTHY, f"GET {url} failed: {type(exc).__name__}: {exc}")
    if resp.status_code < 400:
        return HealthStatus(HealthState.HEALTHY, f"GET {url}: {resp.status_code}")
    return HealthStatus(HealthState.UNHEALTHY, f"GET {url}: HTTP {resp.status_code}")
