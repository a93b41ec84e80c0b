from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from floe.config._base import Url
from floe.config.plugins import PluginConfig
from floe.plugins._http import http_ok
from floe.plugins.base import HealthState, HealthStatus
from floe.plugins.interfaces import LineageBackendPlugin


class ConsoleLineageConfig(PluginConfig):
    type: Literal["console"]


class FileLineageConfig(PluginConfig):
    type: Literal["file"]
    path: str = ".floe/lineage.jsonl"

    def local_paths(self) -> dict[str, str]:
        return {"path": self.path}


class MarquezLineageConfig(PluginConfig):
    type: Literal["marquez"]
    url: Url = "http://127.0.0.1:5000"
    timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 5.0


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

    def compiled_transport(self, manifest_dir: Path, artifacts_dir: Path) -> dict[str, Any]:
        transport = self.transport_config()
        path = str(transport["log_file_path"])
        if not path.startswith(("/", "~", "$")):
            transport["log_file_path"] = os.path.relpath(manifest_dir / path, artifacts_dir)
        return transport

    def run_transport(self, stored: dict[str, Any], artifacts_dir: Path) -> dict[str, Any]:
        path = Path(os.path.expandvars(str(stored["log_file_path"]))).expanduser()
        if not path.is_absolute():
            path = (artifacts_dir / path).resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        return {**stored, "log_file_path": str(path)}

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
