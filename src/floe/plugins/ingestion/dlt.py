from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from floe.config.plugins import PluginConfig
from floe.plugins.base import HealthState, HealthStatus
from floe.plugins.interfaces import IngestionPlugin


class DltConfig(PluginConfig):
    type: Literal["dlt"]


class DltIngestionPlugin(IngestionPlugin):
    name: ClassVar[str] = "dlt"
    description: ClassVar[str] = "dlt pipelines landing in <product>_raw"
    config_model = DltConfig

    def destination_config(self, catalog_properties: Mapping[str, str]) -> dict[str, Any]:
        return {"destination": "iceberg", "catalog": dict(catalog_properties)}

    def health_check(self, timeout: float = 5.0) -> HealthStatus:
        if self.config is None:
            return self.not_configured()
        import importlib.util

        if importlib.util.find_spec("dlt") is None:
            return HealthStatus(HealthState.UNHEALTHY, "the dlt package is not installed (pip install dlt)")
        return HealthStatus(HealthState.HEALTHY, "dlt available")
