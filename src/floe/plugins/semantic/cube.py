from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import yaml

from floe.config.plugins import CubeConfig, MetricFlowConfig
from floe.plugins._http import http_ok
from floe.plugins.base import HealthStatus
from floe.plugins.interfaces import SemanticLayerPlugin

if TYPE_CHECKING:
    from floe.compiler.artifacts import CompiledArtifacts


def _mart_models(artifacts: CompiledArtifacts) -> list[str]:
    return [m.name for m in artifacts.transforms.models if m.tier == "gold"]


class CubePlugin(SemanticLayerPlugin):
    """Cube data model (one cube per mart) for the Kubernetes deployment."""

    name: ClassVar[str] = "cube"
    description: ClassVar[str] = "Cube semantic layer"
    config_model = CubeConfig
    config: CubeConfig | None

    def generate_model(self, artifacts: CompiledArtifacts) -> dict[str, str]:
        ns = artifacts.identity.namespace
        cubes = [
            {"name": m, "sql_table": f"{ns}.{m}", "measures": [{"name": "count", "type": "count"}]}
            for m in _mart_models(artifacts)
        ]
        return {f"model/cubes/{artifacts.metadata.product_name}.yml": yaml.safe_dump({"cubes": cubes},
                                                                                      sort_keys=False)}

    def health_check(self, timeout: float = 5.0) -> HealthStatus:
        if self.config is None:
            return self.not_configured()
        return http_ok(self.config.api_url.rsplit("/cubejs-api", 1)[0] + "/readyz", timeout)


class MetricFlowPlugin(SemanticLayerPlugin):
    """dbt MetricFlow semantic models generated from the product's marts."""

    name: ClassVar[str] = "metricflow"
    description: ClassVar[str] = "dbt MetricFlow"
    config_model = MetricFlowConfig

    def generate_model(self, artifacts: CompiledArtifacts) -> dict[str, str]:
        models = [
            {"name": m, "model": f"ref('{m}')", "entities": [], "dimensions": [], "measures": []}
            for m in _mart_models(artifacts)
        ]
        return {"semantic_models.yml": yaml.safe_dump({"semantic_models": models}, sort_keys=False)}
