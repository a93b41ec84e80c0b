"""Dagster definitions for one product, from the runtime's steps (``RunSteps``).

One asset per dbt seed and model (dagster-dbt), one per ingested table (``ingestion:`` in floe.yaml:
the step dbt's sources depend on, so it runs first), an asset job, the schedule from floe.yaml and
sensors that always name their job.
"""

# No `from __future__ import annotations`: Dagster reads the asset functions' annotations at
# definition time (``dg.AssetExecutionContext``), so they must be real objects, not strings.
from typing import TYPE_CHECKING, Any

from floe.errors import FloeError
from floe.plugins.interfaces import RunOptions
from floe.plugins.orchestrator.dagster_service import PRODUCT_TAG

if TYPE_CHECKING:
    from floe.contract import CompiledArtifacts
    from floe.plugins.interfaces import InProcessRun, QualityPlan, RunObserver, RunSteps


def job_name(artifacts: "CompiledArtifacts") -> str:
    return f"{artifacts.identity.slug}_job"


def build_definitions(product: "RunSteps") -> Any:
    import dagster as dg
    from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

    artifacts = product.artifacts
    # Parsed here, not passed as a path: dagster-dbt caches manifests by path, so a second run in the
    # same process (after a model or test was added) would plan with the old one.
    manifest = product.dbt_manifest()
    slug = artifacts.identity.slug
    plan = product.quality_plan()

    class Translator(DagsterDbtTranslator):
        def get_asset_key(self, dbt_resource_props: Any) -> dg.AssetKey:
            return dg.AssetKey([slug, dbt_resource_props["name"]])

        def get_group_name(self, dbt_resource_props: Any) -> str:
            return slug

    @dbt_assets(manifest=manifest, name=f"{slug}_dbt", dagster_dbt_translator=Translator())
    def product_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Any:
        try:
            yield from _models_step(product, plan, RunOptions.from_tags(context.run.tags), context, dbt)
        except FloeError as exc:  # the step's error is floe's message (what failed, the next step), as for ingestion
            raise dg.Failure(description=str(exc)) from exc

    # The ingestion step (if any), then the dbt build: executing them in the run worker itself saves a
    # second Python process that would import Dagster, dagster-dbt and these definitions all over again.
    # the platform's run queue lets one run per product tag run at a time (dagster_service)
    job = dg.define_asset_job(job_name(artifacts), selection=dg.AssetSelection.groups(slug),
                              executor_def=dg.in_process_executor, tags={PRODUCT_TAG: slug})
    schedules = []
    if artifacts.schedule is not None:
        schedules.append(dg.ScheduleDefinition(
            name=f"{slug}_schedule", job=job, cron_schedule=artifacts.schedule.cron,
            execution_timezone=artifacts.schedule.timezone,
            default_status=dg.DefaultScheduleStatus.STOPPED,
        ))
    sensors = [_file_sensor(product, s.name, s.watch_path, s.minimum_interval_seconds, job) for s in artifacts.sensors]
    return dg.Definitions(
        assets=[*_ingestion_assets(product), product_assets],
        jobs=[job],
        schedules=schedules,
        sensors=sensors,
        resources={"dbt": DbtCliResource(project_dir=str(product.project_dir), profiles_dir=str(product.profiles_dir),
                                         target=artifacts.dbt.target, dbt_executable=product.dbt_executable())},
    )


def _models_step(product: "RunSteps", plan: "QualityPlan", options: RunOptions, context: Any, dbt: Any) -> Any:
    """The dbt build, the audit (quality checks) and the publish of one run."""
    vars_arg = product.dbt_vars_arg()
    no_tests = [] if plan.dbt_tests else ["--exclude-resource-type", "test"]
    # Alerts go out from here, where every run executes (scheduled and sensor runs too), after the
    # observer has recorded the failed run's spans and lineage.
    with product.models(context.run.run_id, context.log, options) as observer:
        if plan.blocking:
            # `dbt build` runs tests right after each model and skips everything downstream of a failure.
            yield from watch_dbt(observer, dbt.cli(["build", *vars_arg, *no_tests], context=context))
        else:
            yield from watch_dbt(observer, dbt.cli(["seed", *vars_arg], context=context))
            yield from watch_dbt(observer, dbt.cli(["run", *vars_arg], context=context))
            if plan.dbt_tests:
                yield from watch_dbt(observer, dbt.cli(["test", *vars_arg], context=context, raise_on_error=False))
        # the quality plugin's checks on what dbt built; a blocking failure raises before publishing
        product.check_quality(plan, context.log)
        from dagster._utils.interrupts import capture_interrupts

        # SIGINT while publishing waits for it to end: all of this run's tables are published, not some
        with capture_interrupts():
            observer.publish()


def watch_dbt(observer: "RunObserver", invocation: Any) -> Any:
    """Stream a dagster-dbt invocation; then hand dbt's run_results to the observer."""
    try:
        yield from invocation.stream()
    finally:
        try:
            results = invocation.get_artifact("run_results.json")
        except Exception:  # dbt failed before writing it
            results = None
        if results is not None:
            observer.dbt_results(results)


def run_in_process(product: "RunSteps", options: "RunOptions") -> "InProcessRun":
    """Execute the product's job in this process; its output goes wherever stdout/stderr go."""
    from floe.plugins.interfaces import InProcessRun
    from floe.plugins.orchestrator.dagster_client import readable_step_error

    job = build_definitions(product).resolve_job_def(job_name(product.artifacts))
    result = job.execute_in_process(
        raise_on_error=False, tags=options.tags(),
        run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
    )
    failures = [event.step_failure_data.error for event in result.all_events
                if event.is_step_failure and event.step_failure_data and event.step_failure_data.error]
    # SIGINT during a step: Dagster turns it into this error in the step that was running
    interrupted = any(e.cls_name == "DagsterExecutionInterruptedError" for e in failures)
    return InProcessRun(success=result.success, run_id=result.run_id,
                        step_errors=[readable_step_error(e.message) for e in failures], interrupted=interrupted)


def _ingestion_assets(product: "RunSteps") -> list[Any]:
    """One asset per ingested table, all materialized by one step. Its keys are the keys dagster-dbt
    gives the dbt sources of the same tables (``[slug, table]``), so every model reading one runs after it."""
    import dagster as dg

    a = product.artifacts
    if not a.ingestion:
        return []
    slug = a.identity.slug
    specs = [dg.AssetSpec(dg.AssetKey([slug, s.name]), group_name=slug, kinds={"iceberg"},
                          description=f"{s.table}, ingested ({s.write_disposition}) from "
                                      f"{s.display_path or f'{s.connection}/{s.resource}'}")
             for s in a.ingestion]

    @dg.multi_asset(specs=specs, name=f"{slug}_ingest")
    def ingest(context: dg.AssetExecutionContext) -> Any:
        try:
            tables = product.ingest(context.run.run_id, context.log, RunOptions.from_tags(context.run.tags))
        except FloeError as exc:
            # Failure: the step's error is floe's message itself, not "Error occurred while executing op"
            raise dg.Failure(description=str(exc)) from exc
        for t in tables:
            context.log.info(f"{t.identifier}: {t.rows} rows from {t.origin}")
            yield dg.MaterializeResult(asset_key=dg.AssetKey([slug, t.name]), metadata={
                "table": t.identifier, "rows": t.rows, "snapshot_id": str(t.snapshot_id), "origin": t.origin})

    return [ingest]


def _file_sensor(product: "RunSteps", name: str, watch: str, interval: int, job: Any) -> Any:
    import dagster as dg

    path = product.watched_path(watch)

    # The job is explicit: a sensor without a target cannot request runs (seed 15-FR-009).
    @dg.sensor(name=f"{product.artifacts.identity.slug}_{name}", job=job, minimum_interval_seconds=interval)
    def _sensor(context: dg.SensorEvaluationContext) -> Any:
        if not path.exists():
            return dg.SkipReason(f"{path} does not exist")
        mtime = str(path.stat().st_mtime_ns)
        if context.cursor == mtime:
            return dg.SkipReason("no change")
        context.update_cursor(mtime)
        return dg.RunRequest(run_key=mtime)

    return _sensor


