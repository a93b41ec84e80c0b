"""The fourteen plugin ABCs. Implementations live in the per-type subpackages (and in third-party
packages) and are found through entry points."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, Self

from pydantic import SecretStr

from floe.errors import AuthenticationError, PluginError
from floe.plugins.base import FloePlugin
from floe.plugins.local import Grant
from floe.plugins.types import PluginType

if TYPE_CHECKING:
    from floe._iceberg import StagedTable
    from floe.config._base import SecretRef
    from floe.contract import CompiledArtifacts, ResolvedCheck, ResolvedGovernance, ResolvedIngestion
    from floe.plugins.semantic.query import QueryRequest, QueryResult


class ComputePlugin(FloePlugin):
    plugin_type: ClassVar[PluginType] = PluginType.COMPUTE

    @abstractmethod
    def dbt_output(self, *, product_slug: str, catalog: Mapping[str, Any] | None) -> dict[str, Any]:
        """The dbt profile output (one target) for this engine; secrets only as env_var() references.

        Args:
            product_slug: the product name with ``-`` replaced by ``_``.
            catalog: the catalog plugin's ``duckdb_attach`` description, or None for local tables.
        """

    @abstractmethod
    def required_dbt_packages(self) -> list[str]:
        """pip packages the generated profile needs (e.g. ``dbt-duckdb``)."""

    def dbt_vars(self, *, catalog: Mapping[str, Any] | None) -> dict[str, Any]:
        """dbt vars the product's models read to materialize on this engine (e.g. ``floe_materialized``).

        Args:
            catalog: as for ``dbt_output``.
        """
        return {}

    def run_env(self, *, work_dir: Path, product_slug: str, catalog_attached: bool) -> dict[str, str]:
        """Environment every dbt invocation needs for this engine (the variables ``dbt_output`` reads).

        Args:
            work_dir: the product's compiled output folder (where local state may live).
            product_slug: as for ``dbt_output``.
            catalog_attached: whether dbt writes through the catalog (``duckdb_attach`` was not None).
        """
        return {}

    def local_database(self, work_dir: Path, product_slug: str) -> Path | None:
        """The engine's local database file (tables that floe publishes to Iceberg after dbt when no
        catalog is attached); None when the engine keeps no local file."""
        return None


class OrchestratorPlugin(FloePlugin):
    plugin_type: ClassVar[PluginType] = PluginType.ORCHESTRATOR

    @abstractmethod
    def definitions_module(self, artifacts_path: Path) -> str:
        """Source of the thin module that loads the product's definitions from its artifacts."""

    def service_url(self) -> str | None:
        """Where the platform's orchestrator answers (runs are launched there); None: runs happen in
        the calling process."""
        return None

    @abstractmethod
    def build_definitions(self, product: RunSteps) -> Any:
        """Build the orchestrator's definitions (assets, jobs, schedules, sensors) for one product.

        Args:
            product: the runtime's steps of the product (its artifacts, its ingestion and dbt steps
                with their alerts, spans and lineage); the definitions call them, nothing else.
        """

    @abstractmethod
    def run_in_process(self, product: RunSteps, options: RunOptions | None = None) -> InProcessRun:
        """Run the product's job once in this process (the embedded default) and say how it went.

        Args:
            options: this run's options; they reach ``RunSteps.models`` (carry them as ``options.tags()``
                on the run, read back with ``RunOptions.from_tags``, as ``launch`` does).
        """

    def schedule_problem(self, cron: str) -> str | None:
        """Compile time: why this orchestrator would refuse to schedule ``cron`` (five fields: minute
        hour day month weekday), or None when it accepts it."""
        return None

    def launch(self, artifacts: CompiledArtifacts, *, changed: float, options: RunOptions | None = None) -> PlatformRun:
        """Launch the product's job on the platform's orchestrator (``service_url``), its definitions
        reloaded first unless they were loaded after ``changed``.

        Args:
            artifacts: the product's compiled artifacts (its definitions were generated from them).
            changed: when the artifacts or what they were built from last changed (Unix time).
            options: this run's options, carried as the run's tags (``RunOptions.tags``).

        Raises:
            FloeError: the orchestrator is unreachable, or refused the launch.
        """
        raise PluginError(f"the {self.name} orchestrator runs products in-process only", plugin=self.name,
                          hint="drop --platform, or use a manifest whose orchestrator serves the platform")


@dataclass(frozen=True)
class RunOptions:
    """What one run is asked beyond its artifacts (``floe run`` flags). They travel with the run as the
    orchestrator's run tags, so a run launched on the platform gets them as an in-process one does."""

    full_refresh: tuple[str, ...] = ()
    """Models and seeds rebuilt from scratch: their local tables are dropped before dbt (an incremental
    model reads all of its input again), and their published tables take dropped columns and type
    changes whatever governance.schema_changes says (the history stays in older snapshots)."""

    take_over: bool = False
    """This product folder takes the product's tables over from the folder that published them (a moved
    product); without it, a table another folder owns fails the run."""

    FULL_REFRESH_TAG: ClassVar[str] = "floe/full_refresh"
    TAKE_OVER_TAG: ClassVar[str] = "floe/take_over"

    def tags(self) -> dict[str, str]:
        tags = {self.FULL_REFRESH_TAG: ",".join(self.full_refresh)} if self.full_refresh else {}
        return {**tags, self.TAKE_OVER_TAG: "true"} if self.take_over else tags

    @classmethod
    def from_tags(cls, tags: Mapping[str, str]) -> RunOptions:
        value = tags.get(cls.FULL_REFRESH_TAG, "")
        return cls(full_refresh=tuple(n for n in value.split(",") if n),
                   take_over=tags.get(cls.TAKE_OVER_TAG) == "true")


@dataclass(frozen=True)
class RunStatus:
    """A platform run's state, in the orchestrator-neutral words ``TERMINAL`` lists."""

    run_id: str
    status: str
    """``QUEUED``, ``STARTED`` ... until one of ``RunStatus.TERMINAL``."""
    steps: dict[str, str]
    """Each step's status; ``SUCCESS`` once done."""

    TERMINAL: ClassVar[frozenset[str]] = frozenset({"SUCCESS", "FAILURE", "CANCELED"})

    @property
    def finished(self) -> bool:
        return self.status in self.TERMINAL


class PlatformRun(Protocol):
    """A product run launched on the platform's orchestrator."""

    run_id: str
    url: str
    """Where a user sees the run."""

    def wait(self, on_change: Callable[[RunStatus], None] | None = None) -> RunStatus:
        """Until the run finishes (raises FloeError past the orchestrator's deadline)."""
        ...

    def failure_messages(self) -> list[str]:
        """The failed steps' errors, as the orchestrator reported them."""
        ...


@dataclass(frozen=True)
class InProcessRun:
    """How an in-process run of a product's job went."""

    success: bool
    run_id: str
    step_errors: list[str] = field(default_factory=list)
    """The failed steps' errors as the orchestrator reported them."""
    interrupted: bool = False
    """The run stopped because the process was interrupted (SIGINT), not because a step failed."""


class RunObserver(Protocol):
    """Records what dbt did (spans, lineage, the failure alert's detail) and publishes the tables."""

    def dbt_results(self, results: Mapping[str, Any]) -> None:
        """After each dbt invocation, even a failed one: its ``run_results.json`` (when dbt wrote one)."""
        ...

    def publish(self) -> None: ...


class RunSteps(Protocol):
    """What the runtime gives an orchestrator plugin for one product: the steps its definitions run.

    Every step reports failures through the manifest's alert channels and records its spans and
    lineage; the orchestrator decides only when they run.
    """

    @property
    def artifacts(self) -> CompiledArtifacts: ...

    @property
    def project_dir(self) -> Path:
        """The product's dbt project."""
        ...

    @property
    def profiles_dir(self) -> Path:
        """Where the generated profiles.yml is."""
        ...

    def dbt_manifest(self) -> dict[str, Any]:
        """dbt's parsed manifest of this compile (parsed when stale), with the dbt environment exported."""
        ...

    def dbt_vars_arg(self) -> list[str]:
        """The ``--vars`` arguments every dbt command of this product takes."""
        ...

    def dbt_executable(self) -> str:
        """The dbt CLI the manifest's dbt plugin runs."""
        ...

    def ingest(self, run_id: str, log: Any, options: RunOptions | None = None) -> list[IngestedTable]:
        """The ingestion step (nothing when the product declares no sources); raises FloeError."""
        ...

    def models(self, run_id: str, log: Any, options: RunOptions | None = None) -> AbstractContextManager[RunObserver]:
        """Around the dbt step: alerts on failure and the observer that records and publishes it.
        Entering it prepares the run for ``options`` (drops what is to be fully refreshed)."""
        ...

    def quality_plan(self) -> QualityPlan:
        """What the quality plugin checks after the models (the dbt tests? blocking?)."""
        ...

    def check_quality(self, plan: QualityPlan, log: Any) -> list[CheckOutcome]:
        """Inside ``models``, after dbt and before ``publish``: the product's check files on the tables
        this run built; raises FloeError when a check fails and the plan blocks."""
        ...

    def watched_path(self, watch: str) -> Path:
        """A sensor's watched file, as a path (relative to the dbt project)."""
        ...


class CatalogPlugin(FloePlugin):
    plugin_type: ClassVar[PluginType] = PluginType.CATALOG

    @abstractmethod
    def pyiceberg_properties(self, resolve: SecretResolver, warehouse_root: str) -> dict[str, str]:
        """Properties for ``pyiceberg.catalog.load_catalog`` (secrets resolved at runtime only)."""

    @abstractmethod
    def duckdb_attach(self, warehouse_root: str) -> dict[str, Any] | None:
        """How DuckDB attaches this catalog (None: DuckDB writes local tables and floe exports them)."""

    def endpoint(self) -> str | None:
        """The catalog's network address, for reachability checks (None: a local file)."""
        return None

    def served_by_storage(self) -> str | None:
        """On the local platform: the warehouse name when this catalog is an Iceberg REST endpoint that
        the platform's object store serves itself (its table buckets) at ``endpoint()``; None when the
        catalog is its own service or a file."""
        return None

    def run_env(self, resolve: SecretResolver) -> dict[str, str]:
        """Environment a run needs to reach this catalog (the variables its dbt profile reads), secrets
        resolved now with ``resolve``; never written anywhere."""
        return {}

    def commit_tables(self, catalog: Any, staged: Sequence[StagedTable]) -> None:
        """Make a run's staged table changes visible together (the publish of write-audit-publish).

        The default commits one table at a time and, when one fails, sets the ones already committed
        back to their previous snapshot: per-table atomicity, the product restored on failure. A
        catalog with a multi-table commit overrides this to publish all of them or none.

        Raises:
            CommitFailedException: a table changed since it was staged; nothing of the run is published.
        """
        from floe._iceberg import commit_each

        commit_each(catalog, staged)

    def table_properties(self, governance: ResolvedGovernance) -> dict[str, str]:
        """Iceberg table properties derived from compiled governance."""
        max_age_ms = governance.default_ttl_hours * 3600 * 1000
        return {
            "history.expire.max-snapshot-age-ms": str(max_age_ms),
            "history.expire.min-snapshots-to-keep": str(governance.snapshot_keep_last),
            "floe.data-retention-days": str(governance.data_retention_days),
        }


class StoragePlugin(FloePlugin):
    plugin_type: ClassVar[PluginType] = PluginType.STORAGE

    @abstractmethod
    def warehouse_root(self, base_dir: Path) -> str:
        """URI of the warehouse root (``file:///...`` or ``s3://bucket``)."""

    @abstractmethod
    def fileio_properties(self, resolve: SecretResolver) -> dict[str, str]:
        """PyIceberg FileIO properties (``s3.endpoint`` ...), secrets resolved at runtime only."""

    @abstractmethod
    def dbt_secrets(self) -> list[dict[str, Any]]:
        """dbt-duckdb ``secrets:`` entries, values as env_var() references."""

    def run_env(self, resolve: SecretResolver) -> dict[str, str]:
        """Environment a run needs to reach this storage (the variables ``dbt_secrets`` reads), secrets
        resolved now with ``resolve``; never written anywhere."""
        return {}


class TelemetryBackendPlugin(FloePlugin):
    plugin_type: ClassVar[PluginType] = PluginType.TELEMETRY_BACKEND

    @abstractmethod
    def otlp_endpoint(self) -> str | None:
        """Where spans go (None: console / no export)."""

    def otlp_protocol(self) -> Literal["grpc", "http"]:
        """How spans are sent to ``otlp_endpoint``: OTLP over gRPC or over HTTP (protobuf)."""
        return "grpc"


class LineageBackendPlugin(FloePlugin):
    plugin_type: ClassVar[PluginType] = PluginType.LINEAGE_BACKEND

    @abstractmethod
    def transport_config(self) -> dict[str, Any]:
        """openlineage-python transport config (``{"type": "http", "url": ...}``)."""

    def compiled_transport(self, manifest_dir: Path, artifacts_dir: Path) -> dict[str, Any]:
        """The transport as the compiled artifacts store it: paths the manifest gives relative to its
        folder are stored relative to ``artifacts_dir``, so compiled output stays relocatable."""
        return self.transport_config()

    def run_transport(self, stored: dict[str, Any], artifacts_dir: Path) -> dict[str, Any]:
        """The stored transport as a run uses it (relative paths resolved from ``artifacts_dir``)."""
        return stored


@dataclass(frozen=True)
class DbtResult:
    success: bool
    command: str
    results: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""


class DbtPlugin(FloePlugin):
    plugin_type: ClassVar[PluginType] = PluginType.DBT

    @abstractmethod
    def invoke(
        self, args: Sequence[str], *, project_dir: Path, profiles_dir: Path, env: Mapping[str, str] | None = None
    ) -> DbtResult:
        """Run one dbt command (``["run", "--select", ...]``) and return its results."""

    def executable(self) -> str:
        """The dbt command line the orchestrator runs for a product's dbt step (dagster-dbt streams
        its events); default: ``dbt`` on PATH.

        Raises:
            PluginError: no such executable is installed.
        """
        import shutil

        found = shutil.which("dbt")
        if found is None:
            raise PluginError("no dbt executable on PATH", plugin=self.name, version=self.version,
                              hint="install dbt-core into floe's environment (`make setup`)")
        return found


class SemanticLayerPlugin(FloePlugin):
    plugin_type: ClassVar[PluginType] = PluginType.SEMANTIC_LAYER

    @abstractmethod
    def generate_model(self, artifacts: CompiledArtifacts) -> dict[str, str]:
        """Files (relative path -> content) describing the semantic model over the product's marts."""

    def query(self, product: Any, request: QueryRequest) -> QueryResult:
        """Answer ``request`` (metrics by dimensions, in floe's names) for one product, in this process
        (`floe semantic query`, `floe semantic serve`).

        Args:
            product: the product's run context (its compiled artifacts and catalog).
            request: what `floe semantic query` or the service's POST /v1/query asked.

        Raises:
            PluginError: this semantic layer answers in its own service, not in floe's process.
        """
        raise self._not_here()

    def explain(self, product: Any, request: QueryRequest) -> str:
        """The SQL ``query`` would run for ``request`` (`floe semantic query --explain`)."""
        raise self._not_here()

    def _not_here(self) -> PluginError:
        return PluginError(f"the {self.name} semantic layer answers queries in its own service "
                           f"({self.describe()}), not in floe's process", plugin=self.name, version=self.version,
                           hint="query that service's API, or set plugins.semantic_layer to one that answers "
                                "locally (`floe plugins list`)")


@dataclass(frozen=True)
class IngestedTable:
    """One table an ingestion run committed to the product's catalog."""

    name: str
    """The source's name in floe.yaml (the table's name)."""
    identifier: str
    """``<product>_raw.<name>``."""
    rows: int
    """Rows this run wrote (for merge: the rows it upserted)."""
    columns: tuple[tuple[str, str], ...] = ()
    """(name, Iceberg type) of the table after the commit."""
    snapshot_id: int | None = None
    """The Iceberg snapshot the commit made (None: nothing to commit)."""
    origin: str = ""
    """Where the rows came from, for lineage: ``file:data/x.jsonl``, ``sql:<connection>/<table>`` ..."""


class IngestionPlugin(FloePlugin):
    plugin_type: ClassVar[PluginType] = PluginType.INGESTION

    @abstractmethod
    def ingest(
        self,
        sources: Sequence[ResolvedIngestion],
        *,
        catalog_name: str,
        catalog_properties: Mapping[str, str],
        namespace: str,
        base_dir: Path,
        working_dir: Path,
        resolve: SecretResolver,
        table_properties: Mapping[str, str] | None = None,
    ) -> list[IngestedTable]:
        """Load every source into ``namespace`` of the catalog, as Iceberg tables, before dbt runs.

        All sources are read before anything is committed, so a source that cannot be read leaves
        every table as it was. Each table is then one Iceberg commit (readers see the old or the new
        rows, never half).

        Args:
            sources: the compiled sources (``CompiledArtifacts.ingestion``), in order.
            catalog_name: the product's catalog name (PyIceberg's ``load_catalog(name, ...)``).
            catalog_properties: PyIceberg catalog properties, secrets resolved; never persisted.
            namespace: the product's raw namespace (``<product>_raw``).
            base_dir: the folder file paths are relative to (where compiled_artifacts.json is).
            working_dir: the plugin's own state and scratch files (under the product's target).
            resolve: resolves the secret references of the plugin's configuration (connections).
            table_properties: Iceberg properties for tables it creates (governance retention).

        Returns:
            The committed tables, in the order of ``sources``.

        Raises:
            RuntimeFailure: a source could not be read or committed; the message names the source.
        """

    def check_connection(self, kind: str, name: str, product: str) -> str | None:
        """Whether ``product`` may read a ``kind`` (sql, http) source through connection ``name``.

        Returns:
            None when it may; otherwise what is wrong, naming the connections that exist.
        """
        return f"the {self.name} ingestion plugin has no connections (source {kind}, connection {name!r})"


@dataclass(frozen=True)
class QualityPlan:
    """What a product's run checks after its models, and whether a failed check stops it publishing."""

    dbt_tests: bool
    """The dbt project's own tests (``schema.yml``) run, each right after its model."""
    blocking: bool
    """A failed check fails the run before its tables are published; otherwise it is reported only."""


@dataclass(frozen=True)
class CheckOutcome:
    """One check of a check file, as the quality plugin verified it."""

    model: str
    check: str
    passed: bool
    detail: str = ""
    """What was measured, or why the check could not be evaluated."""


class QualityPlugin(FloePlugin):
    """Decides which checks run after a product's models and what blocks its tables from publishing:
    the dbt project's tests (every implementation can run them) and, for plugins that read them, the
    check files floe.yaml declares under ``quality.checks``."""

    plugin_type: ClassVar[PluginType] = PluginType.QUALITY

    def plan(self, artifacts: CompiledArtifacts) -> QualityPlan:
        """The product's plan; by default the dbt tests run and governance's ``block_on_failure`` blocks."""
        return QualityPlan(dbt_tests=True, blocking=artifacts.governance.block_on_failure)

    @abstractmethod
    def check_file_problem(self, doc: Mapping[str, Any], columns: Sequence[str]) -> tuple[str | None, str] | None:
        """Compile time: what is wrong with one check file of floe.yaml, as ``(key path in the file,
        problem)``, or None when the plugin will run it. A plugin that reads no check files says so with
        the key None (the problem is the file being declared at all).

        Args:
            doc: the file's YAML content (a mapping).
            columns: the model's columns as its schema.yml declares them (empty: not declared).
        """

    @abstractmethod
    def run_checks(self, checks: Sequence[ResolvedCheck], read: Callable[[ResolvedCheck], Any]) -> list[CheckOutcome]:
        """Run time, after the models: verify each check file on its model's table.

        Args:
            checks: the artifacts' ``quality_checks`` (validated at compile by ``check_file_problem``).
            read: the table a check is about, as a ``pyarrow.Table`` of what this run built (not yet
                published).
        """


class RBACPlugin(FloePlugin):
    plugin_type: ClassVar[PluginType] = PluginType.RBAC

    @abstractmethod
    def generate(self, product: str, namespaces: Sequence[str]) -> list[dict[str, Any]]:
        """Access-control objects (e.g. Kubernetes ServiceAccount/Role/RoleBinding) for one product."""

    @abstractmethod
    def grants(self, product: str) -> list[Grant]:
        """What the product's own principal may do in the catalog and storage (the local platform's
        store enforces them as identities and policies; nothing else is granted).

        Args:
            product: the product's name (``metadata.name`` of its floe.yaml).
        """


@dataclass(frozen=True)
class AlertEvent:
    product: str
    severity: str
    title: str
    details: dict[str, Any] = field(default_factory=dict)


class AlertChannelPlugin(FloePlugin):
    plugin_type: ClassVar[PluginType] = PluginType.ALERT_CHANNEL

    def bind_run(self, *, resolve: Callable[[SecretRef], str], log: Callable[[str], None] | None) -> None:
        """Called by the run that sends alerts, before ``send_alert``: ``resolve`` resolves secret
        references (at send time, never stored), ``log`` writes to the run's log (None: stderr)."""

    @abstractmethod
    def send_alert(self, event: AlertEvent) -> bool:
        """Deliver one alert; True when the channel accepted it."""

    @abstractmethod
    def validate_config(self) -> list[str]:
        """Problems with the configuration (empty when usable)."""


class SecretsPlugin(FloePlugin):
    plugin_type: ClassVar[PluginType] = PluginType.SECRETS

    @abstractmethod
    def get_secret(self, ref: SecretRef) -> SecretStr:
        """Resolve one reference; raise ConfigError naming the reference when it is missing."""


class IdentityPlugin(FloePlugin):
    """Who is calling: turns the bearer token of a request into the caller's claims.

    Services (``floe semantic serve``) create the plugin from the compiled artifacts, ``bind`` it to
    the platform's secrets plugin once, then call ``authenticate`` with each request's headers.
    """

    plugin_type: ClassVar[PluginType] = PluginType.IDENTITY
    _resolve: SecretResolver | None = None

    def bind(self, resolve: SecretResolver) -> Self:
        """Give the plugin the secrets resolver it reads its secret references through.

        Called once, before the first ``validate_token``; a plugin that holds secret references
        resolves (and checks) them here, so a missing secret fails at service start, not per request.
        The resolved values stay in memory only.

        Args:
            resolve: resolves a ``SecretRef`` to its value through the platform's secrets plugin.

        Returns:
            The plugin itself, ready to validate tokens.

        Raises:
            ConfigError: a secret reference of the plugin's configuration cannot be resolved.
        """
        self._resolve = resolve
        return self

    @abstractmethod
    def validate_token(self, token: SecretStr) -> dict[str, Any]:
        """Check one bearer token and return the caller's claims.

        Args:
            token: the token as sent, without the ``Bearer`` scheme.

        Returns:
            The token's claims; at least ``sub``, the caller.

        Raises:
            AuthenticationError: the token is not valid; the message says why (expired, wrong audience,
                unknown key ...) and never contains the token.
        """

    def authenticate(self, headers: Mapping[str, str]) -> dict[str, Any]:
        """Claims of the caller of one HTTP request, from its ``Authorization: Bearer <token>`` header.

        Args:
            headers: the request's headers; the ``Authorization`` name is matched case-insensitively.

        Returns:
            The claims ``validate_token`` returns for the bearer token.

        Raises:
            AuthenticationError: no ``Authorization`` header, a scheme other than ``Bearer``, an empty
                token, or a token ``validate_token`` refuses.
        """
        value = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
        hint = "send the header `Authorization: Bearer <token>`"
        if value is None or not value.strip():
            raise AuthenticationError("missing bearer token: the request has no Authorization header", hint=hint)
        scheme, _, token = value.strip().partition(" ")
        if scheme.lower() != "bearer":
            # the scheme is not echoed: a client that forgot "Bearer " would see its token in the answer
            raise AuthenticationError("the Authorization header is not a bearer token", hint=hint)
        if not token.strip():
            raise AuthenticationError("missing bearer token: the Authorization header has none after 'Bearer'",
                                      hint=hint)
        return self.validate_token(SecretStr(token.strip()))


class SecretResolver:
    """Callable handed to plugins so they resolve secret references only at runtime."""

    def __init__(self, plugin: SecretsPlugin) -> None:
        self._plugin = plugin

    def __call__(self, ref: SecretRef) -> str:
        return self._plugin.get_secret(ref).get_secret_value()


PLUGIN_ABC_MAP: dict[PluginType, type[FloePlugin]] = {
    PluginType.COMPUTE: ComputePlugin,
    PluginType.ORCHESTRATOR: OrchestratorPlugin,
    PluginType.CATALOG: CatalogPlugin,
    PluginType.STORAGE: StoragePlugin,
    PluginType.TELEMETRY_BACKEND: TelemetryBackendPlugin,
    PluginType.LINEAGE_BACKEND: LineageBackendPlugin,
    PluginType.DBT: DbtPlugin,
    PluginType.SEMANTIC_LAYER: SemanticLayerPlugin,
    PluginType.INGESTION: IngestionPlugin,
    PluginType.QUALITY: QualityPlugin,
    PluginType.RBAC: RBACPlugin,
    PluginType.ALERT_CHANNEL: AlertChannelPlugin,
    PluginType.SECRETS: SecretsPlugin,
    PluginType.IDENTITY: IdentityPlugin,
}
