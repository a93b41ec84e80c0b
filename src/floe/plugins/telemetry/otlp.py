from __future__ import annotations

from typing import ClassVar

from floe.config.plugins import ConsoleTelemetryConfig, OtlpTelemetryConfig
from floe.plugins._http import tcp_reachable
from floe.plugins.base import HealthState, HealthStatus
from floe.plugins.interfaces import TelemetryBackendPlugin


class OtlpTelemetryPlugin(TelemetryBackendPlugin):
    """OTLP export to a collector (gRPC or HTTP)."""

    name: ClassVar[str] = "otlp"
    description: ClassVar[str] = "OpenTelemetry OTLP exporter"
    config_model = OtlpTelemetryConfig
    config: OtlpTelemetryConfig | None

    def otlp_endpoint(self) -> str | None:
        return self.config.endpoint if self.config else None

    def health_check(self, timeout: float = 5.0) -> HealthStatus:
        if self.config is None:
            return self.not_configured()
        return tcp_reachable(self.config.endpoint, timeout)


class JaegerTelemetryPlugin(OtlpTelemetryPlugin):
    """OTLP into a collector that forwards to Jaeger; the query API links traces."""

    name: ClassVar[str] = "jaeger"
    description: ClassVar[str] = "Jaeger via the OpenTelemetry collector"

    def health_check(self, timeout: float = 5.0) -> HealthStatus:
        if self.config is None:
            return self.not_configured()
        status = tcp_reachable(self.config.endpoint, timeout)
        if status.ok and self.config.query_url:
            from floe.plugins._http import http_ok

            return http_ok(self.config.query_url.rstrip("/") + "/api/services", timeout)
        return status


class ConsoleTelemetryPlugin(TelemetryBackendPlugin):
    name: ClassVar[str] = "console"
    description: ClassVar[str] = "spans printed to stderr"
    config_model = ConsoleTelemetryConfig

    def otlp_endpoint(self) -> str | None:
        return None

    def health_check(self, timeout: float = 5.0) -> HealthStatus:
        if self.config is None:
            return self.not_configured()
        return HealthStatus(HealthState.HEALTHY, "stderr")
