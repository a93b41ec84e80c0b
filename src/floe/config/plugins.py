"""Typed configuration for every builtin plugin, one discriminated union per plugin slot.

The ``type`` key picks the implementation; the rest is validated against that implementation's
model, so a typo in ``manifest.yaml`` fails at compile time with the key path.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from floe.config._base import FloeModel, SecretRef, Url
from floe.plugins.identity.static_token import StaticTokenIdentityConfig

# -- compute -------------------------------------------------------------------------------------


class DuckDBConfig(FloeModel):
    type: Literal["duckdb"]
    threads: Annotated[int, Field(ge=1, le=64)] = 4
    memory_limit: Annotated[str, Field(pattern=r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$")] = "2GB"
    timeout_seconds: Annotated[int, Field(ge=1)] = 3600


ComputeConfig = Annotated[DuckDBConfig, Field(discriminator="type")]

# -- orchestrator --------------------------------------------------------------------------------


class DagsterConfig(FloeModel):
    type: Literal["dagster"]
    url: Url | None = None
    """Dagster webserver of the platform; None means runs happen in-process."""
    default_schedule: str | None = None
    max_concurrent_runs: Annotated[int, Field(ge=1, le=64)] | None = None
    """Runs the platform's Dagster executes at once (queued beyond that). Unset: 2 on the local
    platform (each run is a dbt build; about one per core is the useful ceiling), the chart's
    ``dagster.maxConcurrentRuns`` on Kubernetes."""


OrchestratorConfig = Annotated[DagsterConfig, Field(discriminator="type")]

# -- catalog ---------------------------------------------------------------------------------------


class SqlCatalogConfig(FloeModel):
    """Iceberg catalog kept in a local SQLite file: the embedded default."""

    type: Literal["sql"]
    path: str = "catalog.db"
    """Relative paths resolve under the warehouse root chosen by the storage plugin."""


class PolarisCatalogConfig(FloeModel):
    type: Literal["polaris"]
    uri: Url
    """Iceberg REST base, e.g. http://127.0.0.1:8181/api/catalog"""
    management_uri: Url | None = None
    warehouse: str
    client_id: SecretRef
    client_secret: SecretRef
    scope: str = "PRINCIPAL_ROLE:ALL"
    principals: Literal["shared", "per-product"] = "shared"
    """shared: every product uses client_id/client_secret. per-product: each product runs as its own
    principal (``env:FLOE_PRODUCT_<PRODUCT>_CLIENT_ID``/``_CLIENT_SECRET``), granted only its
    ``<product>_raw`` and ``<product>`` namespaces; client_id/client_secret stay the platform's."""


class IcebergRestCatalogConfig(FloeModel):
    type: Literal["iceberg-rest"]
    uri: Url
    warehouse: str
    client_id: SecretRef
    client_secret: SecretRef
    oauth2_token_path: str = "v1/oauth/tokens"  # noqa: S105 - a URL path, not a password
    principals: Literal["shared", "per-product"] = "shared"
    """shared: every product uses client_id/client_secret. per-product: each product runs as its own
    principal (``env:FLOE_PRODUCT_<PRODUCT>_CLIENT_ID``/``_CLIENT_SECRET``), granted only its
    ``<product>_raw`` and ``<product>`` namespaces; client_id/client_secret stay the platform's."""


CatalogConfig = Annotated[
    SqlCatalogConfig | PolarisCatalogConfig | IcebergRestCatalogConfig, Field(discriminator="type")
]

# -- storage ---------------------------------------------------------------------------------------


class LocalStorageConfig(FloeModel):
    type: Literal["local"]
    path: str = ".floe/warehouse"
    """Relative paths resolve against the manifest's folder."""


class S3StorageConfig(FloeModel):
    type: Literal["s3"]
    endpoint: Url
    bucket: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]
    region: str = "us-east-1"
    path_style_access: bool = True
    access_key_id: SecretRef
    secret_access_key: SecretRef
    access: Literal["platform", "product-principal"] = "platform"
    """Whose key a product's runs use for objects: ``platform`` (the keys above), or
    ``product-principal``: the product's own catalog principal, for stores where one identity serves
    both the catalog and S3 (SeaweedFS). Needs ``catalog.principals: per-product``. With a catalog that
    vends storage credentials (Polaris), keep ``platform`` and let the catalog scope them."""


StorageConfig = Annotated[LocalStorageConfig | S3StorageConfig, Field(discriminator="type")]

# -- telemetry / lineage ------------------------------------------------------------------------------


class ConsoleTelemetryConfig(FloeModel):
    type: Literal["console"]


class OtlpTelemetryConfig(FloeModel):
    type: Literal["otlp", "jaeger"]
    endpoint: Url = "http://127.0.0.1:4317"
    protocol: Literal["grpc", "http"] = "grpc"
    query_url: Url | None = None
    """Jaeger query API (for `floe` to link traces); only meaningful for type jaeger."""


TelemetryBackendConfig = Annotated[
    ConsoleTelemetryConfig | OtlpTelemetryConfig, Field(discriminator="type")
]


class ConsoleLineageConfig(FloeModel):
    type: Literal["console"]


class FileLineageConfig(FloeModel):
    type: Literal["file"]
    path: str = ".floe/lineage.jsonl"


class MarquezLineageConfig(FloeModel):
    type: Literal["marquez"]
    url: Url = "http://127.0.0.1:5000"
    timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 5.0


LineageBackendConfig = Annotated[
    ConsoleLineageConfig | FileLineageConfig | MarquezLineageConfig, Field(discriminator="type")
]

# -- the rest ------------------------------------------------------------------------------------------


class DbtCoreConfig(FloeModel):
    type: Literal["core"]
    threads: Annotated[int, Field(ge=1, le=64)] | None = None


DbtConfig = Annotated[DbtCoreConfig, Field(discriminator="type")]


class CubeConfig(FloeModel):
    type: Literal["cube"]
    api_url: Url = "http://127.0.0.1:4000/cubejs-api/v1"
    api_secret: SecretRef | None = None


class MetricFlowConfig(FloeModel):
    type: Literal["metricflow"]
    api_url: Url | None = None
    """Where `floe semantic serve` answers queries; the local platform runs it there. Unset: queries
    run in-process only (`floe semantic query`)."""
    api_token: SecretRef | None = None
    """Bearer token the service requires on every /v1 call."""


SemanticLayerConfig = Annotated[CubeConfig | MetricFlowConfig, Field(discriminator="type")]


class DltConfig(FloeModel):
    type: Literal["dlt"]


IngestionConfig = Annotated[DltConfig, Field(discriminator="type")]


class DbtTestsQualityConfig(FloeModel):
    type: Literal["dbt-tests"]


QualityConfig = Annotated[DbtTestsQualityConfig, Field(discriminator="type")]


class K8sRbacConfig(FloeModel):
    type: Literal["k8s"]
    namespace: str = "floe"


RbacConfig = Annotated[K8sRbacConfig, Field(discriminator="type")]


class WebhookAlertConfig(FloeModel):
    type: Literal["webhook"]
    url: Url
    token: SecretRef | None = None
    timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 5.0


class ConsoleAlertConfig(FloeModel):
    type: Literal["console"]


AlertChannelConfig = Annotated[WebhookAlertConfig | ConsoleAlertConfig, Field(discriminator="type")]


class EnvSecretsConfig(FloeModel):
    type: Literal["env"]
    env_file: str | None = None
    """Optional dotenv-style file read when a variable is not in the environment."""


class FileSecretsConfig(FloeModel):
    type: Literal["file"]
    directory: str


SecretsConfig = Annotated[EnvSecretsConfig | FileSecretsConfig, Field(discriminator="type")]


class OidcIdentityConfig(FloeModel):
    type: Literal["oidc"]
    issuer_url: Url
    audience: str


IdentityConfig = Annotated[OidcIdentityConfig | StaticTokenIdentityConfig, Field(discriminator="type")]


class PluginsConfig(FloeModel):
    """The stack. Swap any piece by changing its ``type`` here; nothing else changes."""

    compute: ComputeConfig
    orchestrator: OrchestratorConfig
    catalog: CatalogConfig
    storage: StorageConfig
    dbt: DbtConfig = Field(default_factory=lambda: DbtCoreConfig(type="core"))
    secrets: SecretsConfig = Field(default_factory=lambda: EnvSecretsConfig(type="env"))
    telemetry_backend: TelemetryBackendConfig | None = None
    lineage_backend: LineageBackendConfig | None = None
    semantic_layer: SemanticLayerConfig | None = None
    ingestion: IngestionConfig | None = None
    quality: QualityConfig | None = None
    rbac: RbacConfig | None = None
    alert_channels: list[AlertChannelConfig] = Field(default_factory=list)
    identity: IdentityConfig | None = None

    @model_validator(mode="after")
    def _product_storage_needs_product_principals(self) -> PluginsConfig:
        if (getattr(self.storage, "access", "platform") == "product-principal"
                and getattr(self.catalog, "principals", "shared") != "per-product"):
            raise ValueError("storage.access: product-principal needs catalog.principals: per-product "
                             "(a product can only use its own principal's key when it has one); set both, "
                             "or set storage.access: platform")
        return self
