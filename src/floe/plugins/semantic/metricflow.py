"""dbt MetricFlow as floe's semantic layer: definitions generated from floe.yaml's ``semantic:`` section.

MetricFlow is a library: ``floe semantic query`` plans with it in-process and computes in DuckDB over
the product's Iceberg tables (:mod:`floe.plugins.semantic.metricflow_engine`); ``floe semantic serve`` (a service of the
local platform when ``api_url`` is set) answers the same queries over HTTP (:mod:`floe.semantic.server`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

from floe.config._base import Url
from floe.config.plugins import PluginConfig
from floe.contract import CompiledArtifacts
from floe.plugins.base import HealthState, HealthStatus
from floe.plugins.interfaces import SemanticLayerPlugin
from floe.plugins.local import LOCALHOST, LocalPlatform, Probe, ServiceSpec, port_of
from floe.plugins.semantic.metricflow_model import (
    DBT_TIME_SPINE_MODEL,
    METRICFLOW_VERSION,
    dbt_semantic_yaml,
    dbt_time_spine_sql,
    metricflow_yaml,
)
from floe.plugins.types import PluginType

if TYPE_CHECKING:
    from floe.plugins.semantic.query import QueryRequest, QueryResult


TOKEN_ENV = "FLOE_SEMANTIC_TOKEN"  # noqa: S105 - the name of the variable, not a token
"""Where the local platform's semantic service finds the token ``identity: static-token`` refers to."""


class MetricFlowConfig(PluginConfig):
    type: Literal["metricflow"]
    api_url: Url | None = None
    """Where `floe semantic serve` answers queries; the local platform runs it there. Unset: queries
    run in-process only (`floe semantic query`)."""


class MetricFlowPlugin(SemanticLayerPlugin):
    """dbt MetricFlow semantic models and metrics generated from the product's semantic section."""

    name: ClassVar[str] = "metricflow"
    description: ClassVar[str] = "dbt MetricFlow"
    config_model = MetricFlowConfig
    config: MetricFlowConfig | None

    def generate_model(self, artifacts: CompiledArtifacts) -> dict[str, str]:
        """The same definitions twice: for the dbt project, and in MetricFlow's own form.

        Returns:
            ``models/floe_semantic/<slug>.yml`` (``semantic_models``/``metrics`` with ``ref()``, and the day
            time spine model dbt requires, ``metricflow_time_spine.sql`` beside it; ``dbt parse`` turns them
            into ``target/semantic_manifest.json`` for dbt's ``mf`` CLI) and
            ``metricflow/<slug>.yml`` (``node_relation`` on the Iceberg tables, with the time spine floe
            creates; what ``floe semantic query`` loads). Empty when the product has no semantic section.
        """
        spec = artifacts.semantic
        if spec is None:
            return {}
        slug = artifacts.identity.slug
        return {
            f"models/floe_semantic/{slug}.yml": dbt_semantic_yaml(spec),
            f"models/floe_semantic/{DBT_TIME_SPINE_MODEL}.sql": dbt_time_spine_sql(),
            f"metricflow/{slug}.yml": metricflow_yaml(spec, artifacts.identity.namespace),
        }

    def query(self, product: Any, request: QueryRequest) -> QueryResult:
        """MetricFlow plans, DuckDB computes over the product's Iceberg tables (see ``run_query``)."""
        from floe.plugins.semantic.query import run_query

        return run_query(product, request)

    def explain(self, product: Any, request: QueryRequest) -> str:
        from floe.plugins.semantic.metricflow_engine import explain_sql
        from floe.plugins.semantic.query import require_spec, resolve_query

        spec = require_spec(product.artifacts)
        return explain_sql(spec, product.artifacts.identity.namespace, resolve_query(spec, request))

    def local_services(self, platform: LocalPlatform) -> list[ServiceSpec]:
        """`floe semantic serve` over the deployed products' artifacts (MetricFlow plans, DuckDB computes
        over the Iceberg marts) when ``api_url`` is set; it needs the store that holds them."""
        import sys

        from floe.contract import ARTIFACTS_FILE
        if self.config is None or not self.config.api_url:
            return []
        port = port_of(self.config.api_url, 4010)
        env = {TOKEN_ENV: platform.secrets[TOKEN_ENV]} if TOKEN_ENV in platform.secrets else {}
        return [ServiceSpec(
            name="semantic",
            command=[sys.executable, "-m", "floe.cli.main", "semantic", "serve",
                     *(str(p.artifacts_dir / ARTIFACTS_FILE) for p in platform.products),
                     "--host", LOCALHOST, "--port", str(port)],
            probe=Probe("http", url=f"http://{LOCALHOST}:{port}/health"), port=port,
            depends_on=platform.services_of(PluginType.STORAGE) + platform.services_of(PluginType.CATALOG),
            env=env, start_timeout=60,
        )]

    def health_check(self, timeout: float = 5.0) -> HealthStatus:
        """With ``api_url``: the running service's /health (it checks its catalog too). Without:
        whether the MetricFlow library this process would plan with is installed."""
        if self.config is None:
            return self.not_configured()
        if self.config.api_url:
            from floe.plugins._http import http_ok

            status = http_ok(f"{self.config.api_url.rstrip('/')}/health", timeout)
            if status.state is not HealthState.HEALTHY:
                return HealthStatus(status.state, f"semantic service: {status.message}",
                                    {"fix": "`floe platform status`; `floe platform start semantic`"})
            return status
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("metricflow")
        except PackageNotFoundError:
            return HealthStatus(HealthState.UNHEALTHY, "python package metricflow is not installed",
                                {"fix": f"pip install metricflow=={METRICFLOW_VERSION}"})
        state = HealthState.HEALTHY if found == METRICFLOW_VERSION else HealthState.DEGRADED
        return HealthStatus(state, f"metricflow {found} (in-process; tested with {METRICFLOW_VERSION})")
