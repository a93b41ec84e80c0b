"""One TCP reachability check for health checks, telemetry and lineage (stdlib only: it runs on the
CLI and compiler path)."""

from __future__ import annotations

import socket
from urllib.parse import urlparse


def tcp_probe(url: str, timeout: float = 0.5, *, default_port: int | None = None) -> tuple[str, str | None]:
    """Open (and close) a TCP connection to ``url``'s host and port.

    Args:
        url: ``scheme://host:port/...``; a bare ``host:port`` is read as ``http://host:port``.
        timeout: seconds to wait for the connection.
        default_port: the port when ``url`` names none (else 443 for https, 80 otherwise).

    Returns:
        ``("host:port", None)`` when the connection is accepted, else ``("host:port", reason)``.
    """
    parsed = urlparse(url if "://" in url else f"http://{url}")
    host = parsed.hostname or "127.0.0.1"
    try:
        port = parsed.port or default_port or (443 if parsed.scheme == "https" else 80)
    except ValueError as exc:  # a port outside 0-65535
        return f"{host}:?", str(exc)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return f"{host}:{port}", None
    except OSError as exc:
        return f"{host}:{port}", exc.strerror or str(exc) or type(exc).__name__


def reachable(url: str, timeout: float = 0.5, *, default_port: int | None = None) -> bool:
    """Whether ``url``'s host accepts TCP connections on its port (see :func:`tcp_probe`)."""
    return tcp_probe(url, timeout, default_port=default_port)[1] is None
