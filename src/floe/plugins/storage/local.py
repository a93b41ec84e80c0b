from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

from floe.config.plugins import PluginConfig
from floe.plugins.base import HealthState, HealthStatus
from floe.plugins.interfaces import SecretResolver, StoragePlugin


class LocalStorageConfig(PluginConfig):
    type: Literal["local"]
    path: str = ".floe/warehouse"
    """Relative paths resolve against the manifest's folder."""

    def local_paths(self) -> dict[str, str]:
        return {"path": self.path}


class LocalStoragePlugin(StoragePlugin):
    """A folder on this machine holds the warehouse (Iceberg data and metadata files)."""

    name: ClassVar[str] = "local"
    description: ClassVar[str] = "local folder warehouse (embedded)"
    config_model = LocalStorageConfig
    config: LocalStorageConfig | None

    def warehouse_root(self, base_dir: Path) -> str:
        cfg = self.config or LocalStorageConfig(type="local")
        path = Path(cfg.path).expanduser()
        if not path.is_absolute():
            path = base_dir / path
        return f"file://{path.resolve()}"

    def fileio_properties(self, resolve: SecretResolver) -> dict[str, str]:
        return {}

    def dbt_secrets(self) -> list[dict[str, Any]]:
        return []

    def health_check(self, timeout: float = 5.0) -> HealthStatus:
        if self.config is None:
            return self.not_configured()
        return HealthStatus(HealthState.HEALTHY, f"folder {self.config.path}")
