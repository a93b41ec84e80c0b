from __future__ import annotations

from typing import ClassVar, Literal

from floe.config._base import Url
from floe.config.plugins import PluginConfig
from floe.plugins._http import tcp_reachable
from floe.plugins.base import HealthState, HealthStatus
from floe.plugins.interfaces import TelemetryBackendPlugin
from floe.plugins.local import LocalPlatform, ServiceSpec, port_of


class ConsoleTelemetryConfig(PluginConfig):
    type: Literal["console"]


class _OtlpSettings(PluginConfig):
    endpoint: Url = "http://127.0.0.1:4317"
    protocol: Literal["grpc", "http"] = "grpc"


class OtlpTelemetryConfig(_OtlpSettings):
    type: Literal["otlp"]


class JaegerTelemetryConfig(_OtlpSettings):
    type: Literal["jaeger"]
    query_url: Url | None = None
    """Jaeger query API (for `floe` to link traces)."""


class OtlpTelemetryPlugin(TelemetryBackendPlugin):
    """OTLP export to a collector (gRPC or HTTP)."""

    name: ClassVar[str] = "otlp"
    description: ClassVar[str] = "OpenTelemetry OTLP exporter"
    config_model: ClassVar[type[PluginConfig] | None] = OtlpTelemetryConfig
    config: _OtlpSettings | None

    def otlp_endpoint(self) -> str | None:
        return self.config.endpoint if self.config else None

    def otlp_protocol(self) -> Literal["grpc", "http"]:
        return self.config.protocol if self.config else "grpc"

    def health_check(self, timeout: float = 5.0) -> HealthStatus:
        if self.config is None:
            return self.not_configured()
        return tcp_reachable(self.config.endpoint, timeout)


class JaegerTelemetryPlugin(OtlpTelemetryPlugin):
    """OTLP into a collector that forwards to Jaeger; the query API links traces."""

    name: ClassVar[str] = "jaeger"
    description: ClassVar[str] = "Jaeger via the OpenTelemetry collector"
    config_model = JaegerTelemetryConfig
    config: JaegerTelemetryConfig | None

    def local_services(self, platform: LocalPlatform) -> list[ServiceSpec]:
        from floe.plugins.telemetry import jaeger_service

        if self.config is None:
            return []
        query = self.config.query_url or "http://127.0.0.1:16686"
        return [jaeger_service.jaeger(platform, port_of(query, 16686)),
                jaeger_service.otel_collector(platform, port_of(self.config.endpoint, 4317))]

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
