from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Literal

from floe._iceberg import StagedTable, commit_sql_transaction
from floe.config.plugins import PluginConfig
from floe.plugins.base import HealthState, HealthStatus
from floe.plugins.interfaces import CatalogPlugin, SecretResolver


class SqlCatalogConfig(PluginConfig):
    """Iceberg catalog kept in a local SQLite file: the embedded default."""

    type: Literal["sql"]
    path: str = "catalog.db"
    """Relative paths resolve under the warehouse root chosen by the storage plugin."""

    def local_paths(self) -> dict[str, str]:
        return {"path": self.path}


class SqlCatalogPlugin(CatalogPlugin):
    """PyIceberg's SQL catalog on a local SQLite file: Iceberg with no services at all."""

    name: ClassVar[str] = "sql"
    description: ClassVar[str] = "SQLite-backed Iceberg catalog (embedded)"
    config_model = SqlCatalogConfig
    config: SqlCatalogConfig | None

    def pyiceberg_properties(self, resolve: SecretResolver, warehouse_root: str) -> dict[str, str]:
        cfg = self.config or SqlCatalogConfig(type="sql")
        root = warehouse_root.removeprefix("file://")
        db = cfg.path if cfg.path.startswith("/") else f"{root}/{cfg.path}"
        return {"type": "sql", "uri": f"sqlite:///{db}", "warehouse": warehouse_root}

    def duckdb_attach(self, warehouse_root: str) -> dict[str, Any] | None:
        return None

    def commit_tables(self, catalog: Any, staged: Sequence[StagedTable]) -> None:
        """All of a run's tables in one SQLite transaction: readers see all of them change, or none."""
        commit_sql_transaction(catalog, staged)

    def health_check(self, timeout: float = 5.0) -> HealthStatus:
        if self.config is None:
            return self.not_configured()
        import importlib.util

        if importlib.util.find_spec("pyiceberg") is None:
            return HealthStatus(HealthState.UNHEALTHY, "pyiceberg is not installed")
        return HealthStatus(HealthState.HEALTHY, f"SQLite catalog file {self.config.path}")
