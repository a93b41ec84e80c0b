"""The contract between compile and run: CompiledArtifacts and every type it embeds.

A leaf package: it imports nothing of floe but ``floe.errors`` (and pydantic), so every other package
may import it (``make lint`` checks both). Cheap to import: pydantic models only.
"""

from floe.contract._base import FloeModel
from floe.contract.artifacts import (
    ARTIFACTS_FILE,
    ARTIFACTS_VERSION,
    ArtifactPaths,
    ArtifactsMetadata,
    CompiledArtifacts,
    DbtSettings,
    EnforcementResult,
    Observability,
    PluginRef,
    ProductIdentity,
    ResolvedCheck,
    ResolvedGovernance,
    ResolvedIngestion,
    ResolvedModel,
    ResolvedPlugins,
    ResolvedTransforms,
    Schedule,
    Sensor,
    Violation,
)
from floe.contract.governance import AskedSchemaChanges, EnforcementLevel, SchemaChange, SchemaChanges
from floe.contract.semantic import SemanticSpec

__all__ = [
    "ARTIFACTS_FILE",
    "ARTIFACTS_VERSION",
    "ArtifactPaths",
    "ArtifactsMetadata",
    "AskedSchemaChanges",
    "CompiledArtifacts",
    "DbtSettings",
    "EnforcementLevel",
    "EnforcementResult",
    "FloeModel",
    "Observability",
    "PluginRef",
    "ProductIdentity",
    "ResolvedCheck",
    "ResolvedGovernance",
    "ResolvedIngestion",
    "ResolvedModel",
    "ResolvedPlugins",
    "ResolvedTransforms",
    "Schedule",
    "SchemaChange",
    "SchemaChanges",
    "SemanticSpec",
    "Sensor",
    "Violation",
]
