"""The compiler: floe.yaml + manifest.yaml -> CompiledArtifacts, in six named stages.

LOAD -> VALIDATE -> RESOLVE -> ENFORCE -> COMPILE -> GENERATE. Each stage is an OpenTelemetry span
under ``compile.pipeline``. Same inputs give byte-identical output (no timestamps, sorted content).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import yaml

from floe._version import __version__
from floe.config.dbt_project import DbtProject, read_dbt_project
from floe.config.loader import load_model, read_yaml
from floe.config.manifest import PlatformManifest
from floe.config.paths import contained, inside
from floe.config.spec import FloeSpec, IngestionSpec
from floe.contract import (
    ARTIFACTS_FILE,
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
)
from floe.errors import CompilationError, ConfigError, FloeError
from floe.plugins.base import FloePlugin
from floe.plugins.interfaces import (
    ComputePlugin,
    IngestionPlugin,
    LineageBackendPlugin,
    OrchestratorPlugin,
    QualityPlugin,
    StoragePlugin,
    TelemetryBackendPlugin,
)
from floe.plugins.registry import get_registry, load_manifest
from floe.plugins.types import PluginType

FOLDER_TIERS = {"staging": "bronze", "intermediate": "silver", "marts": "gold"}
_SKIP_DIRS = {"target", "logs", "dbt_packages", ".floe", "__pycache__"}


class CompilationStage(str, Enum):
    LOAD = "load"
    VALIDATE = "validate"
    RESOLVE = "resolve"
    ENFORCE = "enforce"
    COMPILE = "compile"
    GENERATE = "generate"


@dataclass
class _State:
    spec_path: Path
    manifest_path: Path
    spec: FloeSpec | None = None
    manifest: PlatformManifest | None = None
    project: DbtProject | None = None
    plugins: dict[PluginType, list[FloePlugin]] = field(default_factory=dict)
    models: list[ResolvedModel] = field(default_factory=list)
    checks: list[ResolvedCheck] = field(default_factory=list)
    governance: ResolvedGovernance | None = None
    enforcement: EnforcementResult | None = None
    dbt: DbtSettings | None = None
    artifacts: CompiledArtifacts | None = None
    files: dict[str, str] = field(default_factory=dict)
    output_dir: Path | None = None  # where the artifacts will be written; None: the default folder


def resolve_spec_path(path: Path) -> Path:
    """Accept a product folder or its floe.yaml."""
    path = Path(path)
    if path.is_dir():
        path = path / "floe.yaml"
    return path


def compile_pipeline(
    spec_path: Path | str,
    manifest_path: Path | str | None = None,
    *,
    output_dir: Path | str | None = None,
) -> CompiledArtifacts:
    """Compile one data product.

    Args:
        spec_path: the product's floe.yaml, or the folder holding it.
        manifest_path: the platform manifest; defaults to floe.yaml's ``platform.manifest``.
        output_dir: when given, write compiled_artifacts.json, profiles.yml and definitions.py there,
            atomically (all files or none).

    Returns:
        The compiled, governed artifacts.

    Raises:
        ConfigError: an input file is invalid (file, key, value and fix in the message).
        PolicyEnforcementError: strict governance found violations.
        CompilationError: a stage failed for another reason.
    """
    from opentelemetry import trace

    tracer = trace.get_tracer("floe.compiler", __version__)
    spec_file = resolve_spec_path(Path(spec_path))
    state = _State(spec_path=spec_file, manifest_path=Path(manifest_path) if manifest_path else Path(),
                   output_dir=Path(output_dir).resolve() if output_dir is not None else None)
    with tracer.start_as_current_span("compile.pipeline") as root:
        root.set_attribute("floe.spec_path", str(spec_file))
        for stage, run in (
            (CompilationStage.LOAD, _load),
            (CompilationStage.VALIDATE, _validate),
            (CompilationStage.RESOLVE, _resolve),
            (CompilationStage.ENFORCE, _enforce),
            (CompilationStage.COMPILE, _compile),
            (CompilationStage.GENERATE, _generate),
        ):
            with tracer.start_as_current_span(f"compile.{stage.value}") as span, _stage_errors(stage):
                run(state)
                if state.spec is not None:
                    span.set_attribute("floe.product", state.spec.metadata.name)
        assert state.artifacts is not None and state.spec is not None
        root.set_attribute("floe.product", state.spec.metadata.name)
        root.set_attribute("floe.product_version", state.spec.metadata.version)
        root.set_attribute("floe.model_count", len(state.models))
        root.set_attribute("floe.enforcement_level", state.artifacts.enforcement_result.enforcement_level.value)
        root.set_attribute("floe.passed", state.artifacts.enforcement_result.passed)
    if output_dir is not None:
        write_outputs(state.files, Path(output_dir))
    return state.artifacts


@contextmanager
def _stage_errors(stage: CompilationStage) -> Iterator[None]:
    try:
        yield
    except FloeError:
        raise
    except Exception as exc:  # an unexpected failure still names its stage
        raise CompilationError(stage.value.upper(), f"{type(exc).__name__}: {exc}",
                               hint="rerun with --debug for the traceback") from exc


# -- LOAD -----------------------------------------------------------------------------------------
def _load(s: _State) -> None:
    s.spec = load_model(s.spec_path, FloeSpec, forbid_infra_keys=True)
    product = s.spec_path.parent
    if s.manifest_path == Path():
        if Path(s.spec.platform.manifest).suffix not in (".yaml", ".yml"):
            raise ConfigError("the platform manifest must be a .yaml file", file=s.spec_path,
                              key="platform.manifest", value=s.spec.platform.manifest,
                              hint="point it at the platform's manifest.yaml (default ../manifest.yaml)")
        s.manifest_path = (product / s.spec.platform.manifest).resolve()
    s.manifest = load_manifest(s.manifest_path)
    _check_manifest_paths(s.manifest, s.manifest_path)
    for i, sensor in enumerate(s.spec.sensors):
        contained(product, sensor.watch_path, file=s.spec_path, key=f"sensors[{i}].watch_path")
    project_dir = contained(product, s.spec.dbt.project_dir, file=s.spec_path, key="dbt.project_dir")
    s.project = read_dbt_project(project_dir.resolve())


def _check_manifest_paths(manifest: PlatformManifest, path: Path) -> None:
    """Relative folders a run writes to (warehouse, catalog, lineage log) and the product globs the
    platform reads do not climb out of the manifest's folder. An absolute warehouse or lineage path is
    the platform team's explicit choice; secret files are read from wherever the platform keeps them."""
    for slot, config in manifest.plugins.configured():
        for name, value in config.local_paths().items():
            contained(path.parent, value, file=path, key=f"plugins.{slot}.{name}", allow_absolute=True)
    for i, glob in enumerate(manifest.platform.products):
        contained(path.parent, glob, file=path, key=f"platform.products[{i}]")


# -- VALIDATE --------------------------------------------------------------------------------------
def _validate(s: _State) -> None:
    assert s.spec and s.manifest and s.project
    known = s.project.models
    for i, t in enumerate(s.spec.transforms):
        key = f"transforms[{i}]"
        if t.name not in known:
            raise ConfigError(f"transform {t.name!r} has no dbt model", file=s.spec_path, key=f"{key}.name",
                              value=t.name, allowed=", ".join(sorted(known)) or "(no models found)",
                              hint=f"add models/{t.name}.sql to the dbt project or fix the name")
        if t.depends_on is not None and sorted(t.depends_on) != sorted(r for r in known[t.name].refs if r in known):
            raise ConfigError(
                f"dependsOn of {t.name!r} disagrees with the model's ref() calls", file=s.spec_path,
                key=f"{key}.dependsOn", value=sorted(t.depends_on),
                allowed=str(sorted(r for r in known[t.name].refs if r in known)),
                hint="the dbt SQL is the source of truth: fix dependsOn or the ref() calls")
        if t.compute is not None and t.compute not in s.manifest.approved_compute:
            raise ConfigError(f"compute {t.compute!r} is not approved by the platform", file=s.spec_path,
                              key=f"{key}.compute", value=t.compute,
                              allowed=", ".join(s.manifest.approved_compute),
                              hint="use an approved compute or ask the platform team to approve it")
    for name, model in known.items():
        missing = [r for r in model.refs if r not in known and r not in s.project.seeds]
        if missing:
            raise ConfigError(f"model {name!r} refs unknown model(s) {missing}", file=s.project.root / model.path,
                              allowed=", ".join(sorted([*known, *s.project.seeds])),
                              hint="create the missing model or fix the ref()")
    s.project.topological_order()  # raises on cycles
    if s.spec.semantic is not None:
        from floe.semantic.validate import validate_semantic

        validate_semantic(s.spec.semantic, s.project, file=s.spec_path)
    from floe.config.principals import scope_to_product

    s.plugins = get_registry().from_manifest(scope_to_product(s.manifest, s.spec.metadata.name))
    _validate_schedule(s)
    _validate_schemas(s)
    _validate_ingestion(s)
    s.checks = _validate_quality(s)
    for i, name in enumerate(s.spec.quality.allow_empty):
        if name not in s.project.models and name not in s.project.seeds:
            raise ConfigError(f"quality.allow_empty names {name!r}, which is no seed or model of the dbt project",
                              file=s.spec_path, key=f"quality.allow_empty[{i}]", value=name,
                              allowed=", ".join(sorted([*s.project.seeds, *s.project.models])) or "(none)",
                              hint="name a seed or a model the run may leave empty")


def _validate_schemas(s: _State) -> None:
    """dbt writes seeds to ``<slug>_raw`` and models to ``<slug>``, where the run publishes them from:
    dbt_project.yml sets those schemas and a ``generate_schema_name`` macro keeps them verbatim (dbt's
    own would write ``main_<slug>``). Otherwise dbt passes and the run fails after it."""
    assert s.spec and s.project
    slug = s.spec.metadata.name.replace("-", "_")
    project_file = s.project.root / "dbt_project.yml"
    for kind, expected, present in (("seeds", f"{slug}_raw", bool(s.project.seeds)),
                                    ("models", slug, bool(s.project.models))):
        found = s.project.schemas.get(kind, [])
        if present and not found:
            raise ConfigError(f"dbt_project.yml sets no schema for the {kind}; floe publishes them from {expected}",
                              file=project_file, key=f"{kind}.{s.project.name}.+schema", allowed=expected,
                              hint=f"add `{kind}: {{{s.project.name}: {{+schema: {expected}}}}}` to dbt_project.yml")
        for key, value in found:
            if value != expected:
                raise ConfigError(f"the {kind} of product {s.spec.metadata.name!r} must be written to schema "
                                  f"{expected}, where the run publishes them from", file=project_file, key=key,
                                  value=value, allowed=expected, hint=f"set {key}: {expected}")
    if (s.project.seeds or s.project.models) and "generate_schema_name" not in s.project.macros:
        raise ConfigError("no generate_schema_name macro: dbt would write to main_<schema> instead of the schemas "
                          "floe publishes from", file=project_file, key="macro-paths",
                          hint="add a macro that uses a custom schema verbatim (demo/macros/generate_schema_name.sql) "
                               "to one of the macro-paths")


def _validate_schedule(s: _State) -> None:
    """The product's schedule is one its orchestrator accepts (it would refuse the definitions at run)."""
    assert s.spec
    if s.spec.schedule is None:
        return
    orchestrator = s.plugins[PluginType.ORCHESTRATOR][0]
    assert isinstance(orchestrator, OrchestratorPlugin)
    problem = orchestrator.schedule_problem(s.spec.schedule.cron)
    if problem:
        raise ConfigError(problem, file=s.spec_path, key="schedule.cron", value=s.spec.schedule.cron,
                          hint="fix the expression (e.g. '*/10 * * * *' every 10 minutes, '0 6 * * 1-5' at 06:00 on "
                               "weekdays)")


def _validate_ingestion(s: _State) -> None:
    """Sources in floe.yaml: an ingestion plugin to run them, files inside the product, connections
    the platform opened to this product, names that are no seed or model; and every
    ``source('<product>_raw', ...)`` of a model is one of them."""
    assert s.spec and s.manifest and s.project
    product = s.spec_path.parent
    name = s.spec.metadata.name
    raw = f"{name.replace('-', '_')}_raw"
    plugins = s.plugins.get(PluginType.INGESTION) or []
    if s.spec.ingestion and not plugins:
        raise ConfigError("floe.yaml declares ingestion sources, but the platform's manifest has no ingestion "
                          "plugin", file=s.manifest_path, key="plugins.ingestion",
                          allowed=", ".join(get_registry().type_names("ingestion")) or "(none installed)",
                          hint="ask the platform team to add an ingestion plugin to manifest.yaml, or remove "
                               f"`ingestion:` from {s.spec_path.name}")
    for i, src in enumerate(s.spec.ingestion):
        key = f"ingestion[{i}]"
        taken = "seed" if src.name in s.project.seeds else "model" if src.name in s.project.models else None
        if taken:
            raise ConfigError(f"ingestion table {src.name!r} has the name of a dbt {taken}", file=s.spec_path,
                              key=f"{key}.name", value=src.name,
                              hint=f"rename it: a {taken} of that name is also {raw}.{src.name} / the same asset")
        if src.path is not None:  # a file source (the only kind with a path: IngestionSpec checks it)
            path = contained(product, src.path, file=s.spec_path, key=f"{key}.path")
            if not path.is_file():
                raise ConfigError("ingestion file not found" if not path.exists() else "not a file",
                                  file=s.spec_path, key=f"{key}.path", value=src.path,
                                  hint=f"add the file to {product.name}/ or fix the path (relative to "
                                       f"{product.name}/)")
            continue
        plugin = plugins[0]
        assert isinstance(plugin, IngestionPlugin)
        problem = plugin.check_connection(src.source, str(src.connection), name)
        if problem:
            raise ConfigError(problem, file=s.spec_path, key=f"{key}.connection", value=src.connection,
                              hint="use a connection the platform team declared for this product, or ask them "
                                   "to add one to manifest.yaml (plugins.ingestion.connections)")

    declared = {src.name for src in s.spec.ingestion}
    for model in s.project.models.values():
        for source_name, table in model.sources:
            if source_name == raw and table not in declared:
                raise ConfigError(f"model {model.name!r} ({model.path}) reads source('{raw}', '{table}'), which "
                                  "floe.yaml does not ingest", file=s.spec_path, key="ingestion", value=table,
                                  allowed=", ".join(sorted(declared)) or "(no ingestion sources declared)",
                                  hint=f"declare it under `ingestion:` in floe.yaml (name: {table}), or read "
                                       "a seed with ref()")


def _validate_quality(s: _State) -> list[ResolvedCheck]:
    """floe.yaml ``quality.checks``: a model of the project, a file inside the product holding one
    mapping, and a check file the manifest's quality plugin will run (its own validation)."""
    assert s.spec and s.manifest and s.project
    checks = s.spec.quality.checks
    if not checks:
        return []
    product = s.spec_path.parent
    plugins = s.plugins.get(PluginType.QUALITY) or []
    if not plugins:
        raise ConfigError("floe.yaml declares quality checks, but the platform's manifest has no quality plugin",
                          file=s.manifest_path, key="plugins.quality",
                          allowed=", ".join(get_registry().type_names("quality")) or "(none installed)",
                          hint="ask the platform team to add a quality plugin that reads check files (soda), "
                               f"or remove `quality.checks` from {s.spec_path.name}")
    plugin = plugins[0]
    assert isinstance(plugin, QualityPlugin)
    slug = s.spec.metadata.name.replace("-", "_")
    resolved = []
    for i, check in enumerate(checks):
        key = f"quality.checks[{i}]"
        model = s.project.models.get(check.model)
        if model is None:
            raise ConfigError(f"quality check for {check.model!r}, which is no model of the dbt project",
                              file=s.spec_path, key=f"{key}.model", value=check.model,
                              allowed=", ".join(sorted(s.project.models)) or "(no models found)",
                              hint="name a model of the product (models/**/<name>.sql)")
        path = contained(product, check.file, file=s.spec_path, key=f"{key}.file")
        if not path.is_file():
            raise ConfigError("check file not found" if not path.exists() else "not a file", file=s.spec_path,
                              key=f"{key}.file", value=check.file,
                              hint=f"add the file to {product.name}/ or fix the path (relative to {product.name}/)")
        doc = read_yaml(path)
        problem = plugin.check_file_problem(doc, list(model.columns))
        if problem is not None:
            where, message = problem
            if where is None:
                raise ConfigError(message, file=s.spec_path, key=f"{key}.file", value=check.file,
                                  allowed=", ".join(get_registry().type_names("quality")),
                                  hint="ask the platform team for a quality plugin that reads check files (see "
                                       f"docs/plugins.md), or remove `quality.checks` from {s.spec_path.name}")
            raise ConfigError(message, file=path, key=where, hint=f"fix {check.file} (declared in "
                                                                  f"{s.spec_path.name} {key}.file)")
        resolved.append(ResolvedCheck(model=check.model, table=f"{slug}.{check.model}", file=check.file, spec=doc))
    return resolved


# -- RESOLVE ---------------------------------------------------------------------------------------
def _resolve(s: _State) -> None:
    from floe.governance import resolve_governance

    assert s.spec and s.manifest and s.project
    declared = {t.name: t for t in s.spec.transforms}
    default_compute = s.manifest.plugins.compute.type
    models: list[ResolvedModel] = []
    for name in s.project.topological_order():
        dbt_model = s.project.models[name]
        t = declared.get(name)
        tier = t.tier if t else FOLDER_TIERS.get(dbt_model.folder)
        if tier is None:
            raise ConfigError(
                f"model {name!r} has no tier", file=s.spec_path, key="transforms",
                allowed="bronze, silver, gold",
                hint=f"declare it in floe.yaml (transforms: [{{name: {name}, tier: silver}}]) or put it "
                     f"under models/staging|intermediate|marts")
        models.append(ResolvedModel(
            name=name, path=dbt_model.path, tier=tier,
            compute=(t.compute if t and t.compute else default_compute),
            tags=sorted({*(t.tags if t else []), *dbt_model.tags}),
            depends_on=sorted(r for r in dbt_model.refs if r in s.project.models),
            seeds=sorted(r for r in dbt_model.refs if r in s.project.seeds),
            sources=sorted(t for src, t in dbt_model.sources if src == f"{s.spec.metadata.name.replace('-', '_')}_raw"),
            description=dbt_model.description, test_count=dbt_model.test_count,
        ))
    s.models = models
    s.governance = resolve_governance(s.manifest.governance, s.spec.governance)


# -- ENFORCE ---------------------------------------------------------------------------------------
def _enforce(s: _State) -> None:
    from floe.governance import enforce

    assert s.spec and s.manifest and s.project and s.governance
    s.enforcement = enforce(s.spec.metadata.name, s.models, s.project, s.governance, s.manifest.governance,
                            spec_file=s.spec_path, asked=s.spec.governance)


# -- COMPILE ---------------------------------------------------------------------------------------
def _compile(s: _State) -> None:
    assert s.spec and s.manifest and s.project and s.governance
    compute = s.plugins[PluginType.COMPUTE][0]
    assert isinstance(compute, ComputePlugin)
    slug = s.spec.metadata.name.replace("-", "_")
    # dbt builds every run's tables in the engine's local database, on every manifest; floe publishes
    # them to the catalog after the run's tests and checks pass (write-audit-publish), so dbt is never
    # given the catalog to write through
    output = compute.dbt_output(product_slug=slug, catalog=None)
    dbt_vars: dict[str, Any] = {"floe_retention_days": s.governance.data_retention_days,
                                **compute.dbt_vars(catalog=None)}
    profile = s.project.profile or slug
    s.dbt = DbtSettings(project_name=s.project.name, profile_name=profile, target="floe",
                        profiles={profile: {"target": "floe", "outputs": {"floe": output}}}, vars=dbt_vars)


# -- GENERATE --------------------------------------------------------------------------------------
def _generate(s: _State) -> None:
    assert s.spec and s.manifest and s.project and s.governance and s.enforcement and s.dbt
    spec, manifest = s.spec, s.manifest
    name = spec.metadata.name
    slug = name.replace("-", "_")
    # paths in the artifacts are relative to the folder they are written to (compiled output moves with
    # its sources), so they must be measured from there, not from the default folder
    out_dir = s.output_dir or default_output_dir(s.spec_path, manifest)
    storage = s.plugins[PluginType.STORAGE][0]
    assert isinstance(storage, StoragePlugin)
    warehouse = storage.warehouse_root(s.manifest_path.parent)
    warehouse_rel = (
        os.path.relpath(warehouse.removeprefix("file://"), out_dir) if warehouse.startswith("file://") else warehouse
    )
    telemetry = s.plugins[PluginType.TELEMETRY_BACKEND]
    lineage = s.plugins[PluginType.LINEAGE_BACKEND]
    exporter = telemetry[0] if telemetry else None
    assert exporter is None or isinstance(exporter, TelemetryBackendPlugin)
    otlp = exporter.otlp_endpoint() if exporter else None
    otlp_protocol = exporter.otlp_protocol() if exporter else "grpc"
    schedule = (
        Schedule(cron=spec.schedule.cron, timezone=spec.schedule.timezone, enabled=spec.schedule.enabled)
        if spec.schedule else None
    )
    s.artifacts = CompiledArtifacts(
        metadata=ArtifactsMetadata(
            product_name=name, product_version=spec.metadata.version, owner=spec.metadata.owner,
            description=spec.metadata.description, floe_version=__version__,
            manifest_name=manifest.metadata.name, manifest_version=manifest.metadata.version,
            source_hash=_source_hash(s.spec_path, s.manifest_path, s.project.root),
        ),
        identity=ProductIdentity(
            product_id=f"{spec.metadata.labels.get('domain', 'default')}.{slug}", slug=slug,
            domain=spec.metadata.labels.get("domain", "default"), namespace=slug, raw_namespace=f"{slug}_raw",
            folder=Path(os.path.relpath(s.spec_path.resolve().parent, s.manifest_path.resolve().parent)).as_posix(),
        ),
        paths=ArtifactPaths(project_dir=os.path.relpath(s.project.root, out_dir), warehouse=warehouse_rel),
        plugins=_plugin_refs(s),
        transforms=ResolvedTransforms(default_compute=manifest.plugins.compute.type, models=s.models,
                                      seeds=s.project.seeds),
        dbt=s.dbt,
        schedule=schedule,
        sensors=[Sensor(name=x.name, watch_path=x.watch_path, minimum_interval_seconds=x.minimum_interval_seconds,
                        job_name=f"{slug}_job") for x in spec.sensors],
        governance=s.governance,
        enforcement_result=s.enforcement,
        observability=Observability(
            service_name=name, tracing_enabled=otlp is not None, otlp_endpoint=otlp, otlp_protocol=otlp_protocol,
            lineage_enabled=bool(lineage), lineage_namespace=name,
            lineage_transport=_lineage_transport(lineage, s.manifest_path.parent, out_dir),
        ),
        semantic=spec.semantic,
        ingestion=[_resolved_ingestion(src, slug, s.spec_path.parent, out_dir) for src in spec.ingestion],
        quality_checks=s.checks,
        quality_allow_empty=sorted(spec.quality.allow_empty),
    )
    orchestrator = s.plugins[PluginType.ORCHESTRATOR][0]
    assert isinstance(orchestrator, OrchestratorPlugin)
    s.files = {
        ARTIFACTS_FILE: s.artifacts.to_json(),
        "profiles.yml": yaml.safe_dump(s.dbt.profiles, sort_keys=True),
        "definitions.py": orchestrator.definitions_module(Path(ARTIFACTS_FILE)),
    }


def _resolved_ingestion(src: IngestionSpec, slug: str, product: Path, out_dir: Path) -> ResolvedIngestion:
    return ResolvedIngestion(
        name=src.name, table=f"{slug}_raw.{src.name}", source=src.source,
        path=os.path.relpath(product / src.path, out_dir) if src.path is not None else None,
        display_path=src.path, format=src.format, connection=src.connection,
        # a SQL source names its table, an HTTP source its resource (IngestionSpec allows one or the other)
        resource=src.table if src.table is not None else src.resource, data_selector=src.data_selector,
        write_disposition=src.write_disposition, primary_key=src.primary_key,
    )


def _lineage_transport(lineage: list[FloePlugin], manifest_dir: Path, out_dir: Path) -> dict[str, Any] | None:
    if not lineage:
        return None
    plugin = lineage[0]
    assert isinstance(plugin, LineageBackendPlugin)
    return plugin.compiled_transport(manifest_dir, out_dir)


def output_location(product: Path, manifest_path: Path | None) -> tuple[Path, Path, Path]:
    """(floe.yaml, manifest.yaml, output folder) for a product folder or floe.yaml; the manifest
    defaults to floe.yaml's ``platform.manifest``."""
    spec_path = resolve_spec_path(Path(product))
    if manifest_path is None:
        spec = load_model(spec_path, FloeSpec, forbid_infra_keys=True)
        manifest_path = (spec_path.parent / spec.platform.manifest).resolve()
    return spec_path, manifest_path, default_output_dir(spec_path, load_manifest(manifest_path))


def default_output_dir(spec_path: Path, manifest: PlatformManifest) -> Path:
    """``<product>/target/floe/<manifest name>``: one compiled copy per platform it targets."""
    return (spec_path.parent / "target" / "floe" / manifest.metadata.name).resolve()


def _plugin_refs(s: _State) -> ResolvedPlugins:
    refs: dict[str, Any] = {}
    for ptype, instances in s.plugins.items():
        items = [
            PluginRef(type=p.name, version=p.version,
                      config=p.config.model_dump(mode="json", exclude={"type"}) if p.config is not None else {})
            for p in instances
        ]
        key = "alert_channels" if ptype is PluginType.ALERT_CHANNEL else ptype.value
        refs[key] = items if ptype is PluginType.ALERT_CHANNEL else (items[0] if items else None)
    return ResolvedPlugins(**refs)


def _source_hash(spec: Path, manifest: Path, project: Path) -> str:
    h = hashlib.sha256()
    for label, path in (("floe.yaml", spec), ("manifest.yaml", manifest)):
        h.update(label.encode() + b"\0" + path.read_bytes() + b"\0")
    for path in sorted(project.rglob("*")):
        rel = path.relative_to(project)
        # only regular files inside the project: a link to /dev/zero or out of the repo is not read
        if not path.is_file() or _SKIP_DIRS.intersection(rel.parts) or path == spec or not inside(project, path):
            continue
        h.update(str(rel).encode() + b"\0")
        # Seeds can be large (10M rows); their size stands in for their bytes.
        h.update(str(path.stat().st_size).encode() if path.suffix == ".csv" else path.read_bytes())
        h.update(b"\0")
    return "sha256:" + h.hexdigest()


def write_outputs(files: dict[str, str], out_dir: Path) -> bool:
    """Write every output file or none: build in a sibling temp folder, then swap it in.

    Output identical to what is there already is not rewritten (its files keep their times, so what
    was derived from them, like dbt's parsed manifest, stays current). What runs leave in the folder
    (dbt's target, logs, the DuckDB file) survives a recompile. Returns whether anything changed.
    """
    if out_dir.is_dir() and all(_same_text(out_dir / rel, content) for rel, content in files.items()):
        return False
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        for rel, content in files.items():
            (tmp / rel).write_text(content, encoding="utf-8")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}") if out_dir.exists() else None
    try:
        if old is not None:
            out_dir.rename(old)
        tmp.rename(out_dir)
    except BaseException:
        if old is not None and old.exists() and not out_dir.exists():
            old.rename(out_dir)  # put the previous artifacts back rather than leave none
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        for entry in old.iterdir():  # run state, not compiler output: carried over
            if entry.name not in files:
                entry.rename(out_dir / entry.name)
        shutil.rmtree(old, ignore_errors=True)
    return True


def _same_text(path: Path, content: str) -> bool:
    try:
        return path.read_text(encoding="utf-8") == content
    except (OSError, UnicodeDecodeError):
        return False