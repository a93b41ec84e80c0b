from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from floe.config.plugins import PluginConfig
from floe.plugins.base import HealthState, HealthStatus
from floe.plugins.interfaces import ComputePlugin

DUCKDB_EXTENSIONS = ("httpfs", "avro", "iceberg")
PATH_ENV = "FLOE_DUCKDB_PATH"
EXTENSION_DIR_ENV = "FLOE_DUCKDB_EXTENSION_DIR"


class DuckDBConfig(PluginConfig):
    type: Literal["duckdb"]
    threads: Annotated[int, Field(ge=1, le=64)] = 4
    memory_limit: Annotated[str, Field(pattern=r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$")] = "2GB"
    timeout_seconds: Annotated[int, Field(ge=1)] = 3600


class DuckDBComputePlugin(ComputePlugin):
    """DuckDB through dbt-duckdb: local tables (embedded) or an attached Iceberg REST catalog."""

    name: ClassVar[str] = "duckdb"
    description: ClassVar[str] = "DuckDB 1.5 via dbt-duckdb"
    config_model = DuckDBConfig
    config: DuckDBConfig | None

    def dbt_output(self, *, product_slug: str, catalog: Mapping[str, Any] | None) -> dict[str, Any]:
        cfg = self.config or DuckDBConfig(type="duckdb")
        output: dict[str, Any] = {
            "type": "duckdb",
            "path": f"{{{{ env_var('{PATH_ENV}', 'target/floe/{product_slug}.duckdb') }}}}",
            "threads": cfg.threads,
            "settings": {"memory_limit": cfg.memory_limit},
        }
        if catalog is not None:
            # Extensions come from the pip wheels, installed into a private directory before dbt
            # starts; under `settings` dbt-duckdb would try to download them (local-components §3).
            output["config_options"] = {
                "extension_directory": f"{{{{ env_var('{EXTENSION_DIR_ENV}') }}}}",
                "autoinstall_known_extensions": False,
            }
            output["extensions"] = list(DUCKDB_EXTENSIONS)
            output["secrets"] = list(catalog.get("secrets", []))
            output["attach"] = [catalog["attach"]]
        return output

    def required_dbt_packages(self) -> list[str]:
        return ["dbt-duckdb==1.11.1", "duckdb==1.5.5"]

    def dbt_vars(self, *, catalog: Mapping[str, Any] | None) -> dict[str, Any]:
        # models materialize as local tables (floe publishes them to Iceberg after dbt), or as Iceberg
        # tables in the attached catalog's database
        if catalog is None:
            return {"floe_materialized": "table"}
        return {"floe_materialized": "iceberg_table", "floe_database": catalog["attach"]["alias"]}

    def run_env(self, *, work_dir: Path, product_slug: str, catalog_attached: bool) -> dict[str, str]:
        env = {PATH_ENV: str(self.local_database(work_dir, product_slug))}
        if catalog_attached:
            from floe.plugins.compute.duckdb_ext import extension_dir

            env[EXTENSION_DIR_ENV] = str(extension_dir())
        return env

    def local_database(self, work_dir: Path, product_slug: str) -> Path:
        return work_dir / f"{product_slug}.duckdb"

    def health_check(self, timeout: float = 5.0) -> HealthStatus:
        import importlib.util

        if importlib.util.find_spec("duckdb") is None:
            return HealthStatus(HealthState.UNHEALTHY, "the duckdb package is not installed")
        return HealthStatus(HealthState.HEALTHY, "in-process engine available")
