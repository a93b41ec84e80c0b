"""What a run needs, derived from the artifacts file alone."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from floe.compiler.artifacts import CompiledArtifacts
from floe.errors import ConfigError

if TYPE_CHECKING:
    from floe.plugins.interfaces import IdentityPlugin


@dataclass(frozen=True)
class RunContext:
    artifacts_path: Path
    artifacts: CompiledArtifacts

    @classmethod
    def load(cls, artifacts_path: Path) -> RunContext:
        if not artifacts_path.exists():
            raise ConfigError("compiled artifacts not found", file=artifacts_path,
                              hint="run `floe compile <product>` first")
        return cls(artifacts_path.resolve(), CompiledArtifacts.from_file(artifacts_path))

    @property
    def out_dir(self) -> Path:
        return self.artifacts_path.parent

    @property
    def project_dir(self) -> Path:
        return (self.out_dir / self.artifacts.paths.project_dir).resolve()

    @property
    def duckdb_path(self) -> Path:
        return self.out_dir / f"{self.artifacts.identity.slug}.duckdb"

    @cached_property
    def warehouse_root(self) -> str:
        w = self.artifacts.paths.warehouse or ""
        if "://" in w:
            return w
        return f"file://{(self.out_dir / w).resolve()}"

    def dbt_env(self) -> dict[str, str]:
        env = {"FLOE_DUCKDB_PATH": str(self.duckdb_path), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
        if self.artifacts.dbt.vars.get("floe_materialized") == "iceberg_table":
            from floe.runtime.duckdb_ext import extension_dir

            env["FLOE_DUCKDB_EXTENSION_DIR"] = str(extension_dir())
            env.update(self._dbt_credentials())
        return env

    def _dbt_credentials(self) -> dict[str, str]:
        """The env vars the generated profile's env_var() calls read, resolved by the secrets plugin."""
        from floe.config._base import SecretRef

        resolve = self.secrets_plugin().get_secret
        wanted = {
            "FLOE_CATALOG_CLIENT_ID": self.artifacts.plugins.catalog.config.get("client_id"),
            "FLOE_CATALOG_CLIENT_SECRET": self.artifacts.plugins.catalog.config.get("client_secret"),
            "FLOE_S3_ACCESS_KEY_ID": self.artifacts.plugins.storage.config.get("access_key_id"),
            "FLOE_S3_SECRET_ACCESS_KEY": self.artifacts.plugins.storage.config.get("secret_access_key"),
        }
        return {
            name: resolve(SecretRef.model_validate(ref)).get_secret_value()
            for name, ref in wanted.items() if ref is not None
        }

    def lineage_transport(self) -> dict[str, Any] | None:
        """The artifacts' lineage transport with file paths made absolute (relative = to artifacts)."""
        transport = self.artifacts.observability.lineage_transport
        if transport and transport.get("type") == "file":
            path = Path(os.path.expandvars(str(transport["log_file_path"]))).expanduser()
            if not path.is_absolute():
                path = (self.out_dir / path).resolve()
            path.parent.mkdir(parents=True, exist_ok=True)
            return {**transport, "log_file_path": str(path)}
        return transport

    def dbt_vars_arg(self) -> list[str]:
        return ["--vars", json.dumps(self.artifacts.dbt.vars, sort_keys=True)]

    def secrets_plugin(self) -> Any:
        from floe.plugins.registry import get_registry
        from floe.plugins.types import PluginType

        ref = self.artifacts.plugins.secrets
        return get_registry().create(PluginType.SECRETS, ref.type, {"type": ref.type, **ref.config})

    def identity_plugin(self) -> IdentityPlugin | None:
        """The artifacts' identity plugin, bound to their secrets plugin (None: the manifest sets none).

        Raises:
            ConfigError: a secret reference of the identity plugin cannot be resolved.
        """
        from floe.plugins.interfaces import IdentityPlugin, SecretResolver
        from floe.plugins.registry import get_registry
        from floe.plugins.types import PluginType

        ref = self.artifacts.plugins.identity
        if ref is None:
            return None
        plugin = get_registry().create(PluginType.IDENTITY, ref.type, {"type": ref.type, **ref.config})
        assert isinstance(plugin, IdentityPlugin)
        return plugin.bind(SecretResolver(self.secrets_plugin()))

    def catalog_properties(self) -> dict[str, str]:
        """PyIceberg catalog properties, secrets resolved now (never written anywhere)."""
        from floe.plugins.interfaces import CatalogPlugin, SecretResolver, StoragePlugin
        from floe.plugins.registry import get_registry
        from floe.plugins.types import PluginType

        reg = get_registry()
        resolve = SecretResolver(self.secrets_plugin())
        c = self.artifacts.plugins.catalog
        s = self.artifacts.plugins.storage
        catalog = reg.create(PluginType.CATALOG, c.type, {"type": c.type, **c.config})
        storage = reg.create(PluginType.STORAGE, s.type, {"type": s.type, **s.config})
        assert isinstance(catalog, CatalogPlugin) and isinstance(storage, StoragePlugin)
        root = self.warehouse_root
        if root.startswith("file://"):
            Path(root.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
        return {**catalog.pyiceberg_properties(resolve, root), **storage.fileio_properties(resolve)}

    def table_properties(self) -> dict[str, str]:
        from floe.plugins.interfaces import CatalogPlugin
        from floe.plugins.registry import get_registry
        from floe.plugins.types import PluginType

        c = self.artifacts.plugins.catalog
        catalog = get_registry().create(PluginType.CATALOG, c.type, {"type": c.type, **c.config})
        assert isinstance(catalog, CatalogPlugin)
        return catalog.table_properties(self.artifacts.governance)


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in {"1", "true", "yes"}
