"""What a run needs, derived from the artifacts file alone."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, cast

from floe.contract import CompiledArtifacts
from floe.errors import ConfigError
from floe.plugins.base import FloePlugin
from floe.plugins.interfaces import (
    CatalogPlugin,
    ComputePlugin,
    DbtPlugin,
    IdentityPlugin,
    IngestionPlugin,
    LineageBackendPlugin,
    OrchestratorPlugin,
    SecretResolver,
    SecretsPlugin,
    SemanticLayerPlugin,
    StoragePlugin,
)
from floe.plugins.types import PluginType

OWNER_PROPERTY = "floe.owner"
"""Table property: the product folder (relative to the manifest's) that publishes the table."""


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
    def catalog_name(self) -> str:
        """The product's name for its catalog (a SQL catalog keeps tables per catalog name)."""
        return f"floe-{self.artifacts.identity.slug}"

    @property
    def duckdb_path(self) -> Path:
        """The compute engine's local database (where models land when no catalog is attached)."""
        path = self.compute_plugin().local_database(self.out_dir, self.artifacts.identity.slug)
        if path is None:
            raise ConfigError(f"the compute plugin {self.artifacts.plugins.compute.type!r} keeps no local database",
                              file=self.artifacts_path, key="plugins.compute",
                              hint="attach a catalog the engine writes through, or use a compute plugin with one")
        return path

    @cached_property
    def warehouse_root(self) -> str:
        w = self.artifacts.paths.warehouse or ""
        if "://" in w:
            return w
        return f"file://{(self.out_dir / w).resolve()}"

    def dbt_env(self) -> dict[str, str]:
        # dbt works on the engine's local database only (floe publishes): it needs no catalog credentials
        return {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
                **self.compute_plugin().run_env(work_dir=self.out_dir, product_slug=self.artifacts.identity.slug,
                                                catalog_attached=False)}

    def lineage_transport(self) -> dict[str, Any] | None:
        """The artifacts' lineage transport with file paths made absolute (relative = to artifacts)."""
        transport = self.artifacts.observability.lineage_transport
        if transport is None or self.artifacts.plugins.lineage_backend is None:
            return transport
        lineage = cast(LineageBackendPlugin, self.plugin(PluginType.LINEAGE_BACKEND))
        return lineage.run_transport(transport, self.out_dir)

    def dbt_vars_arg(self) -> list[str]:
        return ["--vars", json.dumps(self.artifacts.dbt.vars, sort_keys=True)]

    def plugin(self, ptype: PluginType) -> FloePlugin:
        """The plugin of slot ``ptype``, rebuilt from the artifacts' stored configuration through the
        registry (which checks that it implements the slot's ABC)."""
        from floe.plugins.registry import get_registry

        ref = getattr(self.artifacts.plugins, ptype.slot)
        if ref is None:
            raise ConfigError(f"this product's artifacts configure no {ptype.value} plugin",
                              file=self.artifacts_path, key=f"plugins.{ptype.slot}",
                              hint=f"set plugins.{ptype.slot} in manifest.yaml and recompile")
        return get_registry().from_ref(ptype, ref)

    def compute_plugin(self) -> ComputePlugin:
        return cast(ComputePlugin, self.plugin(PluginType.COMPUTE))

    def secrets_plugin(self) -> SecretsPlugin:
        return cast(SecretsPlugin, self.plugin(PluginType.SECRETS))

    def catalog_plugin(self) -> CatalogPlugin:
        return cast(CatalogPlugin, self.plugin(PluginType.CATALOG))

    def storage_plugin(self) -> StoragePlugin:
        return cast(StoragePlugin, self.plugin(PluginType.STORAGE))

    def orchestrator_plugin(self) -> OrchestratorPlugin:
        return cast(OrchestratorPlugin, self.plugin(PluginType.ORCHESTRATOR))

    def semantic_plugin(self) -> SemanticLayerPlugin:
        """The semantic layer that answers this product's queries.

        Raises:
            ConfigError: the manifest configures none.
        """
        return cast(SemanticLayerPlugin, self.plugin(PluginType.SEMANTIC_LAYER))
    def dbt_plugin(self) -> DbtPlugin:
        return cast(DbtPlugin, self.plugin(PluginType.DBT))

    def ingestion_plugin(self) -> IngestionPlugin:
        return cast(IngestionPlugin, self.plugin(PluginType.INGESTION))

    def identity_plugin(self) -> IdentityPlugin | None:
        """The artifacts' identity plugin, bound to their secrets plugin (None: the manifest sets none).

        Raises:
            ConfigError: a secret reference of the identity plugin cannot be resolved.
        """
        if self.artifacts.plugins.identity is None:
            return None
        plugin = cast(IdentityPlugin, self.plugin(PluginType.IDENTITY))
        return plugin.bind(SecretResolver(self.secrets_plugin()))

    def catalog_properties(self) -> dict[str, str]:
        """PyIceberg catalog properties, secrets resolved now (never written anywhere)."""
        resolve = SecretResolver(self.secrets_plugin())
        root = self.warehouse_root
        if root.startswith("file://"):
            Path(root.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
        return {**self.catalog_plugin().pyiceberg_properties(resolve, root),
                **self.storage_plugin().fileio_properties(resolve)}

    def catalog(self) -> Any:
        """The product's Iceberg catalog (PyIceberg); 401/403 become typed floe errors."""
        from floe.runtime.iceberg import load_catalog

        return load_catalog(self)

    def table_properties(self) -> dict[str, str]:
        """The governance's table properties, and the product folder that owns the table (``floe.owner``)."""
        owner = {OWNER_PROPERTY: self.artifacts.identity.folder} if self.artifacts.identity.folder else {}
        return {**self.catalog_plugin().table_properties(self.artifacts.governance), **owner}

    def table_identifiers(self) -> list[str]:
        """Every table the product writes: seeds and ingested tables, then models."""
        a = self.artifacts
        raw = [*a.transforms.seeds, *(s.name for s in a.ingestion)]
        return [*(f"{a.identity.raw_namespace}.{t}" for t in raw),
                *(f"{a.identity.namespace}.{m.name}" for m in a.transforms.models)]


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in {"1", "true", "yes"}
