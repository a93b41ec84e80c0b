"""A product's orchestrator definitions: the runtime's steps (``RunSteps``) handed to the manifest's
orchestrator plugin, which builds them (and, on the embedded default, runs them once)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from floe.contract import CompiledArtifacts
from floe.plugins.interfaces import CheckOutcome, IngestedTable, QualityPlan, RunObserver, RunOptions
from floe.runtime.context import RunContext


class ProductSteps:
    """The runtime's ``RunSteps`` of one product, over its RunContext."""

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx

    @property
    def artifacts(self) -> CompiledArtifacts:
        return self.ctx.artifacts

    @property
    def project_dir(self) -> Path:
        return self.ctx.project_dir

    @property
    def profiles_dir(self) -> Path:
        return self.ctx.out_dir

    def dbt_manifest(self) -> dict[str, Any]:
        from floe.runtime.dbt import ensure_dbt_manifest, prepare_dbt_env

        prepare_dbt_env(self.ctx)
        manifest: dict[str, Any] = json.loads(ensure_dbt_manifest(self.ctx).read_text())
        return manifest

    def dbt_vars_arg(self) -> list[str]:
        return self.ctx.dbt_vars_arg()

    def dbt_executable(self) -> str:
        return self.ctx.dbt_plugin().executable()

    def ingest(self, run_id: str, log: Any, options: RunOptions | None = None) -> list[IngestedTable]:
        from floe.runtime.alerts import alert_on_failure
        from floe.runtime.iceberg import check_ownership
        from floe.runtime.ingest import run_ingestion
        from floe.runtime.recovery import begin_run

        with alert_on_failure(self.ctx, run_id=run_id, log=log):
            if self.artifacts.ingestion:
                check_ownership(self.ctx, take_over=(options or RunOptions()).take_over)
                begin_run(self.ctx, run_id, log)  # it writes the ingested tables into the local database
            return run_ingestion(self.ctx)

    @contextmanager
    def models(self, run_id: str, log: Any, options: RunOptions | None = None) -> Iterator[RunObserver]:
        from floe.runtime.alerts import alert_on_failure
        from floe.runtime.iceberg import check_ownership, drop_local_tables
        from floe.runtime.observe import model_run_observer
        from floe.runtime.recovery import begin_run

        options = options or RunOptions()
        with alert_on_failure(self.ctx, run_id=run_id, log=log) as alert, model_run_observer(self.ctx) as observer:
            alert.observer = observer
            check_ownership(self.ctx, take_over=options.take_over)  # before dbt: fail fast, write nothing
            begin_run(self.ctx, run_id, log)  # an earlier run that never published leaves nothing behind
            observer.log = log
            refreshed = [observer.tables[name] for name in options.full_refresh if name in observer.tables]
            observer.full_refresh = {".".join(t) for t in refreshed}
            drop_local_tables(self.ctx, refreshed)  # dbt rebuilds them from all of their input
            yield observer

    def quality_plan(self) -> QualityPlan:
        from floe.runtime.quality import quality_plan

        return quality_plan(self.ctx)

    def check_quality(self, plan: QualityPlan, log: Any) -> list[CheckOutcome]:
        from floe.runtime.quality import check_quality

        return check_quality(self.ctx, plan, log)

    def watched_path(self, watch: str) -> Path:
        return (self.ctx.project_dir / watch).resolve()


def build_definitions(ctx: RunContext) -> Any:
    """The product's definitions, built by the artifacts' orchestrator plugin."""
    return ctx.orchestrator_plugin().build_definitions(ProductSteps(ctx))


def load_definitions(artifacts_path: Path) -> Any:
    """What a product's generated definitions module calls (the orchestrator's code location)."""
    return build_definitions(RunContext.load(artifacts_path))
