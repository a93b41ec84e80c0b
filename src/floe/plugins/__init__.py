"""Plugin system: fourteen types, their ABCs, and entry-point discovery."""

from floe.plugins.base import FLOE_PLUGIN_API_VERSION, FloePlugin, HealthState, HealthStatus
from floe.plugins.interfaces import (
    PLUGIN_ABC_MAP,
    AlertChannelPlugin,
    CatalogPlugin,
    ComputePlugin,
    DbtPlugin,
    IdentityPlugin,
    IngestedTable,
    IngestionPlugin,
    LineageBackendPlugin,
    OrchestratorPlugin,
    QualityPlugin,
    RBACPlugin,
    SecretsPlugin,
    SemanticLayerPlugin,
    StoragePlugin,
    TelemetryBackendPlugin,
)
from floe.plugins.registry import PluginRegistry, get_registry, is_compatible, load_manifest
from floe.plugins.types import PluginType

__all__ = [
    "FLOE_PLUGIN_API_VERSION",
    "PLUGIN_ABC_MAP",
    "AlertChannelPlugin",
    "CatalogPlugin",
    "ComputePlugin",
    "DbtPlugin",
    "FloePlugin",
    "HealthState",
    "HealthStatus",
    "IdentityPlugin",
    "IngestedTable",
    "IngestionPlugin",
    "LineageBackendPlugin",
    "OrchestratorPlugin",
    "PluginRegistry",
    "PluginType",
    "QualityPlugin",
    "RBACPlugin",
    "SecretsPlugin",
    "SemanticLayerPlugin",
    "StoragePlugin",
    "TelemetryBackendPlugin",
    "get_registry",
    "is_compatible",
    "load_manifest",
]
