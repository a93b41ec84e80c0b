"""OpenTelemetry set-up: idempotent, driven by OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_SERVICE_NAME.

An unreachable collector never breaks a compile or a run: floe says so once and carries on.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from floe._net import reachable

DEFAULT_SERVICE = "floe-platform"
_provider: Any = None
_warned = False


def _reachable(endpoint: str) -> bool:
    return reachable(endpoint, default_port=4317)  # OTLP/gRPC's port when the endpoint names none


def available(endpoint: str) -> bool:
    """Whether the OTLP collector at ``endpoint`` accepts connections; says so once per process
    (stderr) when it does not, because traces are then dropped and the work carries on."""
    global _warned
    if _reachable(endpoint):
        return True
    if not _warned:
        print(f"floe: telemetry unavailable ({endpoint} unreachable); continuing without traces",
              file=sys.stderr)
        _warned = True
    return False


def _make_provider(service: str, endpoint: str, protocol: str | None) -> Any:
    if os.environ.get("OTEL_SDK_DISABLED", "").lower() in {"true", "1", "yes"}:
        return None
    if not available(endpoint):
        return None
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    protocol = protocol or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    if protocol.startswith("http"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter

        exporter: Any = HttpExporter(endpoint=endpoint.rstrip("/") + "/v1/traces", timeout=3)
    else:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter

        exporter = GrpcExporter(endpoint=endpoint, insecure=True, timeout=3)
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=500))
    return provider


def init_telemetry(service_name: str | None = None, endpoint: str | None = None,
                   protocol: str | None = None) -> bool:
    """Install the global recording tracer provider (OTLP). Idempotent; True when exporting."""
    global _provider
    if _provider is not None:
        return True
    endpoint = endpoint or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    if not endpoint:
        return False
    service = service_name or os.environ.get("OTEL_SERVICE_NAME") or DEFAULT_SERVICE
    provider = _make_provider(service, endpoint, protocol)
    if provider is None:
        return False
    from opentelemetry import trace

    trace.set_tracer_provider(provider)
    _provider = provider
    return True


_products: dict[str, Any] = {}


def product_tracer(service_name: str, endpoint: str | None, protocol: str | None = None) -> Any:
    """A tracer whose spans carry ``service.name = service_name`` (one provider per data product, so
    several products in one process still show up as separate services)."""
    from opentelemetry import trace

    endpoint = endpoint or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    if service_name not in _products:
        _products[service_name] = _make_provider(service_name, endpoint, protocol) if endpoint else None
    provider = _products[service_name]
    return (provider or trace.get_tracer_provider()).get_tracer("floe.runtime")


def flush(timeout_millis: int = 5000) -> None:
    for provider in [_provider, *_products.values()]:
        if provider is not None:
            provider.force_flush(timeout_millis)


@contextmanager
def telemetry_session(service_name: str | None = None) -> Iterator[None]:
    """Initialise telemetry for a CLI command and flush whatever was recorded at the end."""
    init_telemetry(service_name)
    try:
        yield
    finally:
        flush()
