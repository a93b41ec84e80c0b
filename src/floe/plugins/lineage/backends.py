from __future__ import annotations

from typing import Any, ClassVar

from floe.config.plugins import ConsoleLineageConfig, FileLineageConfig, MarquezLineageConfig
from floe.plugins._http import http_ok
from floe.plugins.base import HealthState, HealthStatus
from floe.plugins.interfaces import LineageBackendPlugin


class ConsoleLineagePlugin(LineageBackendPlugin):
    name: ClassVar[str] = "console"
    description: ClassVar[str] = "OpenLineage events printed as JSON"
    config_model = ConsoleLineageConfig

    def transport_config(self) -> dict[str, Any]:
        return {"type": "console"}

    def health_check(self, timeout: float = 5.0) -> HealthStatus:
        if self.config is None:
            return self.not_configured()
        return HealthStatus(HealthState.HEALTHY, "stdout")


class FileLineagePlugin(LineageBackendPlugin):
    name: ClassVar[str] = "file"
    description: ClassVar[str] = "OpenLineage events appended to a JSON-lines file"
    config_model = FileLineageConfig
    config: FileLineageConfig | None

    def transport_config(self) -> dict[str, Any]:
        cfg = self.config or FileLineageConfig(type="file")
        return {"type": "file", "log_file_path": cfg.path, "append": True}

    def health_check(self, timeout: float = 5.0) -> HealthStatus:
        if self.config is None:
            return self.not_configured()
        return HealthStatus(HealthState.HEALTHY, f"file {self.config.path}")


class MarquezLineagePlugin(LineageBackendPlugin):
    name: ClassVar[str] = "marquez"
    description: ClassVar[str] = "Marquez OpenLineage HTTP API"
    config_model = MarquezLineageConfig
    config: MarquezLineageConfig | None

    def transport_config(self) -> dict[str, Any]:
        assert self.config is not None
        return {"type": "http", "url": self.config.url, "endpoint": "api/v1/lineage",
                "timeout": self.config.timeout_seconds}

    def health_check(self, timeout: float = 5.0) -> HealthStatus:
        if self.config is None:
            return self.not_configured()
        return http_ok(self.config.url.rstrip("/") + "/api/v1/namespaces", timeout)
