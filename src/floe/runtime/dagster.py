"""Dagster definitions for one product, built from its CompiledArtifacts by a thin loader.

One asset per dbt seed and model (dagster-dbt), one per ingested table (``ingestion:`` in floe.yaml:
the step dbt's sources depend on, so it runs first), an asset job, the schedule from floe.yaml and
sensors that always name their job.
"""


import json
import os
from pathlib import Path
from typing import Any

from floe.contract import CompiledArtifacts
from floe.runtime.context import RunContext


def dbt_target_path(ctx: RunContext) -> Path:
    return ctx.out_dir / "dbt"


def prepare_dbt_env(ctx: RunContext) -> dict[str, str]:
    """Environment every dbt invocation of this product gets (also exported for code servers)."""
    env = {**ctx.dbt_env(), "DBT_TARGET_PATH": str(dbt_target_path(ctx)), "DBT_LOG_PATH": str(ctx.out_dir / "logs")}
    os.environ.update(env)
    return env


def ensure_dbt_manifest(ctx: RunContext) -> Path:
    """dbt's manifest.json for this compile, produced by `dbt parse` when missing or stale."""
    from floe.errors import RuntimeFailure

    manifest = dbt_target_path(ctx) / "manifest.json"
    if manifest.exists() and manifest.stat().st_mtime >= ctx.artifacts_path.stat().st_mtime:
        return manifest
    result = ctx.dbt_plugin().invoke(["parse", *ctx.dbt_vars_arg()], project_dir=ctx.project_dir,
                                     profiles_dir=ctx.out_dir, env=prepare_dbt_env(ctx))
    if not result.success:
        raise RuntimeFailure(f"dbt parse failed for {ctx.artifacts.metadata.product_name}:\n{result.message}")
    return manifest


def load_definitions(artifacts_path: Path) -> Any:
    ctx = RunContext.load(artifacts_path)
    return build_definitions(ctx.artifacts, ctx.artifacts_path)


def build_definitions(artifacts: CompiledArtifacts, artifacts_path: Path) -> Any:
    import dagster as dg
    from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

    ctx = RunContext(artifacts_path.resolve(), artifacts)
    dbt_plugin = ctx.dbt_plugin()  # the manifest's dbt plugin: it parses the project and names the CLI the step runs
    prepare_dbt_env(ctx)
    # Parsed here, not passed as a path: dagster-dbt caches manifests by path, so a second run in the
    # same process (after a model or test was added) would plan with the old one.
    manifest = json.loads(ensure_dbt_manifest(ctx).read_text())
    slug = artifacts.identity.slug
    block = artifacts.governance.block_on_failure

    class Translator(DagsterDbtTranslator):
        def get_asset_key(self, dbt_resource_props: Any) -> dg.AssetKey:
            return dg.AssetKey([slug, dbt_resource_props["name"]])

        def get_group_name(self, dbt_resource_props: Any) -> str:
            return slug

    @dbt_assets(manifest=manifest, name=f"{slug}_dbt", dagster_dbt_translator=Translator())
    def product_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Any:
        from floe.runtime.alerts import alert_on_failure
        from floe.runtime.observe import model_run_observer

        vars_arg = ctx.dbt_vars_arg()
        # Alerts go out from here, where every run executes (scheduled and sensor runs too), after the
        # observer has recorded the failed run's spans and lineage.
        with (alert_on_failure(ctx, run_id=context.run.run_id, log=context.log) as alert,
              model_run_observer(ctx) as observer):
            alert.observer = observer
            if block:
                # `dbt build` runs tests right after each model and skips everything downstream of a failure.
                yield from observer.watch(dbt.cli(["build", *vars_arg], context=context))
            else:
                yield from observer.watch(dbt.cli(["seed", *vars_arg], context=context))
                yield from observer.watch(dbt.cli(["run", *vars_arg], context=context))
                yield from observer.watch(dbt.cli(["test", *vars_arg], context=context, raise_on_error=False))
            observer.publish()

    # The ingestion step (if any), then the dbt build: executing them in the run worker itself saves a
    # second Python process that would import Dagster, dagster-dbt and these definitions all over again.
    job = dg.define_asset_job(f"{slug}_job", selection=dg.AssetSelection.groups(slug),
                              executor_def=dg.in_process_executor)
    schedules = []
    if artifacts.schedule is not None:
        schedules.append(dg.ScheduleDefinition(
            name=f"{slug}_schedule", job=job, cron_schedule=artifacts.schedule.cron,
            execution_timezone=artifacts.schedule.timezone,
            default_status=dg.DefaultScheduleStatus.STOPPED,
        ))
    sensors = [_file_sensor(ctx, s.name, s.watch_path, s.minimum_interval_seconds, job) for s in artifacts.sensors]
    return dg.Definitions(
        assets=[*_ingestion_assets(ctx), product_assets],
        jobs=[job],
        schedules=schedules,
        sensors=sensors,
        resources={"dbt": DbtCliResource(project_dir=str(ctx.project_dir), profiles_dir=str(ctx.out_dir),
                                         target=artifacts.dbt.target, dbt_executable=dbt_plugin.executable())},
    )


def _ingestion_assets(ctx: RunContext) -> list[Any]:
    """One asset per ingested table, all materialized by one step. Its keys are the keys dagster-dbt
    gives the dbt sources of the same tables (``[slug, table]``), so every model reading one runs after it."""
    import dagster as dg

    a = ctx.artifacts
    if not a.ingestion:
        return []
    slug = a.identity.slug
    specs = [dg.AssetSpec(dg.AssetKey([slug, s.name]), group_name=slug, kinds={"iceberg"},
                          description=f"{s.table}, ingested ({s.write_disposition}) from "
                                      f"{s.display_path or f'{s.connection}/{s.resource}'}")
             for s in a.ingestion]

    @dg.multi_asset(specs=specs, name=f"{slug}_ingest")
    def ingest(context: dg.AssetExecutionContext) -> Any:
        from floe.errors import FloeError
        from floe.runtime.alerts import alert_on_failure
        from floe.runtime.ingest import run_ingestion

        try:
            with alert_on_failure(ctx, run_id=context.run.run_id, log=context.log):
                tables = run_ingestion(ctx)
        except FloeError as exc:
            # Failure: the step's error is floe's message itself, not "Error occurred while executing op"
            raise dg.Failure(description=str(exc)) from exc
        for t in tables:
            context.log.info(f"{t.identifier}: {t.rows} rows from {t.origin}")
            yield dg.MaterializeResult(asset_key=dg.AssetKey([slug, t.name]), metadata={
                "table": t.identifier, "rows": t.rows, "snapshot_id": str(t.snapshot_id), "origin": t.origin})

    return [ingest]


def _file_sensor(ctx: RunContext, name: str, watch: str, interval: int, job: Any) -> Any:
    import dagster as dg

    path = (ctx.project_dir / watch).resolve()

    # The job is explicit: a sensor without a target cannot request runs (seed 15-FR-009).
    @dg.sensor(name=f"{ctx.artifacts.identity.slug}_{name}", job=job, minimum_interval_seconds=interval)
    def _sensor(context: dg.SensorEvaluationContext) -> Any:
        if not path.exists():
            return dg.SkipReason(f"{path} does not exist")
        mtime = str(path.stat().st_mtime_ns)
        if context.cursor == mtime:
            return dg.SkipReason("no change")
        context.update_cursor(mtime)
        return dg.RunRequest(run_key=mtime)

    return _sensor
