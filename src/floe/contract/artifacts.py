"""CompiledArtifacts: the one contract every runtime component reads."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field

from floe.contract._base import FloeModel
from floe.contract.governance import EnforcementLevel, SchemaChanges
from floe.contract.semantic import SemanticSpec

ARTIFACTS_VERSION = "1.0.0"
ARTIFACTS_FILE = "compiled_artifacts.json"


class ArtifactsMetadata(FloeModel):
    product_name: str
    product_version: str
    owner: str
    description: str = ""
    floe_version: str
    manifest_name: str
    manifest_version: str
    source_hash: str
    """sha256 over floe.yaml, manifest.yaml and every dbt project file: same inputs, same hash."""


class ProductIdentity(FloeModel):
    product_id: str
    slug: str
    domain: str
    namespace: str
    raw_namespace: str
    folder: str = ""
    """The product's folder relative to the manifest's folder (POSIX): the owner recorded on every table
    the product publishes (``floe.owner``), so a second folder with the same name cannot write them."""


class ArtifactPaths(FloeModel):
    """Paths relative to the folder holding compiled_artifacts.json (artifacts stay relocatable)."""

    project_dir: str
    warehouse: str | None = None


class PluginRef(FloeModel):
    type: str
    version: str
    config: dict[str, Any] = Field(default_factory=dict)
    """The manifest's settings; secrets appear only as references such as ``env:NAME``."""


class ResolvedPlugins(FloeModel):
    compute: PluginRef
    orchestrator: PluginRef
    catalog: PluginRef
    storage: PluginRef
    dbt: PluginRef
    secrets: PluginRef
    telemetry_backend: PluginRef | None = None
    lineage_backend: PluginRef | None = None
    semantic_layer: PluginRef | None = None
    ingestion: PluginRef | None = None
    quality: PluginRef | None = None
    rbac: PluginRef | None = None
    alert_channels: list[PluginRef] = Field(default_factory=list)
    identity: PluginRef | None = None


class ResolvedModel(FloeModel):
    name: str
    path: str
    tier: Literal["bronze", "silver", "gold"]
    compute: str
    tags: list[str]
    depends_on: list[str]
    seeds: list[str] = Field(default_factory=list)
    """Seeds (raw tables) the model reads."""
    sources: list[str] = Field(default_factory=list)
    """Ingested raw tables (``ingestion:`` in floe.yaml) the model reads through dbt ``source()``."""
    description: str
    test_count: Annotated[int, Field(ge=0)]


class ResolvedTransforms(FloeModel):
    default_compute: str
    models: list[ResolvedModel]
    """In dependency order: every model comes after the models it depends on."""
    seeds: list[str]


class ResolvedIngestion(FloeModel):
    """One source the ingestion plugin loads into ``table`` before dbt runs (floe.yaml ``ingestion:``)."""

    name: str
    table: str
    """``<product>_raw.<name>``."""
    source: Literal["file", "sql", "http"]
    path: str | None = None
    """file: relative to the folder holding compiled_artifacts.json (artifacts stay relocatable)."""
    display_path: str | None = None
    """file: as written in floe.yaml (relative to the product folder), for messages and lineage."""
    format: Literal["jsonl", "csv", "parquet"] | None = None
    connection: str | None = None
    """sql/http: the name of a connection in the ingestion plugin's configuration."""
    resource: str | None = None
    """sql: the table to read; http: the path below the connection's base URL."""
    data_selector: str | None = None
    write_disposition: Literal["replace", "append", "merge"]
    primary_key: list[str] = Field(default_factory=list)


class ResolvedCheck(FloeModel):
    """A check file of floe.yaml's ``quality.checks``: verified by the quality plugin on ``table`` after
    the models ran and before the run publishes them."""

    model: str
    table: str
    """``<product>.<model>``: the table the model builds."""
    file: str
    """As written in floe.yaml (relative to the product folder), for messages."""
    spec: dict[str, Any]
    """The file's content, as the quality plugin validated it at compile (the run reads this, not the file)."""


class DbtSettings(FloeModel):
    project_name: str
    profile_name: str
    target: str
    profiles: dict[str, Any]
    vars: dict[str, Any]


class Schedule(FloeModel):
    cron: str
    timezone: str
    enabled: bool


class Sensor(FloeModel):
    name: str
    watch_path: str
    minimum_interval_seconds: int
    job_name: str


class ResolvedGovernance(FloeModel):
    policy_enforcement_level: EnforcementLevel
    minimum_test_coverage: int
    require_descriptions: bool
    require_column_descriptions: bool
    block_on_failure: bool
    naming_pattern: str | None
    data_retention_days: int
    default_ttl_hours: int
    snapshot_keep_last: int
    audit_logging: bool
    secret_scanning: bool
    schema_changes: SchemaChanges = Field(default_factory=SchemaChanges)
    """What a publish does with dropped columns and type changes (manifest, made stricter by floe.yaml)."""


class Violation(FloeModel):
    rule: str
    model: str
    """The offending object: a model name, or ``path:line`` for a finding in a file."""
    severity: Literal["error", "warning"]
    message: str
    fix: str
    file: str | None = None
    """For findings in a file: its path relative to the product folder (POSIX separators)."""
    line: Annotated[int, Field(ge=1)] | None = None


class EnforcementResult(FloeModel):
    enforcement_level: EnforcementLevel
    passed: bool
    error_count: Annotated[int, Field(ge=0)]
    warning_count: Annotated[int, Field(ge=0)]
    models_validated: Annotated[int, Field(ge=0)]
    policy_types_checked: list[str]
    violations: list[Violation]


class Observability(FloeModel):
    service_name: str
    tracing_enabled: bool
    otlp_endpoint: str | None
    otlp_protocol: Literal["grpc", "http"]
    lineage_enabled: bool
    lineage_namespace: str
    lineage_transport: dict[str, Any] | None


class CompiledArtifacts(FloeModel):
    version: str = ARTIFACTS_VERSION
    metadata: ArtifactsMetadata
    identity: ProductIdentity
    paths: ArtifactPaths
    plugins: ResolvedPlugins
    transforms: ResolvedTransforms
    dbt: DbtSettings
    schedule: Schedule | None
    sensors: list[Sensor]
    governance: ResolvedGovernance
    enforcement_result: EnforcementResult
    observability: Observability
    semantic: SemanticSpec | None = None
    ingestion: list[ResolvedIngestion] = Field(default_factory=list)
    """Loaded into the raw namespace, in this order, before dbt runs."""
    quality_checks: list[ResolvedCheck] = Field(default_factory=list)
    """floe.yaml ``quality.checks``: run by the quality plugin after the models, before publishing."""
    quality_allow_empty: list[str] = Field(default_factory=list)
    """floe.yaml ``quality.allow_empty``: seeds and models a run may empty (any other published table
    that had rows blocks a run that would leave it empty)."""

    def to_json(self) -> str:
        return self.model_dump_json(indent=2, by_alias=True) + "\n"

    @classmethod
    def from_file(cls, path: Path) -> CompiledArtifacts:
        return cls.model_validate_json(path.read_text(encoding="utf-8"))

    def resolve(self, artifacts_dir: Path, relative: str) -> Path:
        return (artifacts_dir / relative).resolve()
