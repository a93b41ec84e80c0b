from __future__ import annotations

from enum import Enum


class PluginType(str, Enum):
    """The fourteen swappable pieces of a floe platform; value = manifest.yaml slot."""

    COMPUTE = "compute"
    ORCHESTRATOR = "orchestrator"
    CATALOG = "catalog"
    STORAGE = "storage"
    TELEMETRY_BACKEND = "telemetry_backend"
    LINEAGE_BACKEND = "lineage_backend"
    DBT = "dbt"
    SEMANTIC_LAYER = "semantic_layer"
    INGESTION = "ingestion"
    QUALITY = "quality"
    RBAC = "rbac"
    ALERT_CHANNEL = "alert_channel"
    SECRETS = "secrets"
    IDENTITY = "identity"

    @property
    def slot(self) -> str:
        """The key of this type under ``plugins:`` in manifest.yaml (alert channels are a list)."""
        return "alert_channels" if self is PluginType.ALERT_CHANNEL else self.value

    @classmethod
    def from_slot(cls, slot: str) -> PluginType:
        return cls.ALERT_CHANNEL if slot == "alert_channels" else cls(slot)

    @property
    def entry_point_group(self) -> str:
        return _GROUPS[self]

    @classmethod
    def from_entry_point_group(cls, group: str) -> PluginType:
        for member, g in _GROUPS.items():
            if g == group:
                return member
        raise ValueError(f"unknown entry-point group {group!r}; valid: {sorted(_GROUPS.values())}")


_GROUPS: dict[PluginType, str] = {
    PluginType.COMPUTE: "floe.computes",
    PluginType.ORCHESTRATOR: "floe.orchestrators",
    PluginType.CATALOG: "floe.catalogs",
    PluginType.STORAGE: "floe.storage",
    PluginType.TELEMETRY_BACKEND: "floe.telemetry_backends",
    PluginType.LINEAGE_BACKEND: "floe.lineage_backends",
    PluginType.DBT: "floe.dbt",
    PluginType.SEMANTIC_LAYER: "floe.semantic_layers",
    PluginType.INGESTION: "floe.ingestion",
    PluginType.QUALITY: "floe.quality",
    PluginType.RBAC: "floe.rbac",
    PluginType.ALERT_CHANNEL: "floe.alert_channels",
    PluginType.SECRETS: "floe.secrets",
    PluginType.IDENTITY: "floe.identity",
}
