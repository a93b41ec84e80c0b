"""Execute compiled products through the manifest's orchestrator plugin (in-process, or launched on the
platform), report.

Reads CompiledArtifacts only: compiling first is the caller's job (:mod:`floe.app`)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from floe.errors import FloeError, RunInterrupted, RunsFailed, RuntimeFailure
from floe.plugins.interfaces import InProcessRun, PlatformRun, RunOptions


@dataclass
class RunResult:
    product: str
    success: bool
    message: str = ""
    seconds: float = 0.0
    marts: dict[str, int] = field(default_factory=dict)
    artifacts_path: Path | None = None
    run_id: str | None = None  # the orchestrator's run id


@dataclass
class _Launched:
    ctx: Any
    run: PlatformRun
    url: str
    launched: float  # wall clock, to tell this run's dbt results from older ones
    started: float  # monotonic, for the reported duration


def launch_on_platform(compiled: Sequence[Callable[[], Path]], *, console: Any = None,
                       options: RunOptions | None = None) -> list[RunResult]:
    """Launch each product's job through the manifest's orchestrator plugin (``OrchestratorPlugin.launch``
    on its platform service), then follow them all to the end (they run concurrently, up to the
    orchestrator's ``max_concurrent_runs``).

    ``compiled`` holds one callable per product returning its compiled_artifacts.json; each is called
    on this thread (compile there: dbt is not thread-safe) while the previous product launches.
    Every launched run is followed to its end even when another fails; then ``RunsFailed`` names
    each failed product with dbt's failing nodes, and carries the results of those that succeeded.
    """
    from concurrent.futures import ThreadPoolExecutor

    # Compiling and parsing stay on this thread (dbt is not thread-safe); the code location reload
    # and the launch (waits on the orchestrator) overlap with preparing the next product.
    with ThreadPoolExecutor(max_workers=max(len(compiled), 1)) as pool:
        pending = [pool.submit(_reload_and_launch, _prepare(artifacts, options), console, options)
                   for artifacts in compiled]
        runs = [p.result() for p in pending]
    results: dict[str, RunResult] = {}
    failures: dict[str, RuntimeFailure] = {}
    for run in runs:
        name = run.ctx.artifacts.metadata.product_name
        try:
            results[name] = _follow(run, console)
        except RuntimeFailure as exc:
            failures[name] = exc
    if failures:
        raise RunsFailed(failures, results)
    return list(results.values())


@dataclass
class _Prepared:
    ctx: Any
    url: str
    changed: float  # when the artifacts or dbt's manifest last changed
    started: float


def _prepare(compiled: Callable[[], Path], options: RunOptions | None) -> _Prepared:
    from floe.runtime.context import RunContext
    from floe.runtime.dbt import ensure_dbt_manifest

    started = time.monotonic()
    artifacts_path = compiled()
    ctx = RunContext.load(artifacts_path)
    check_options(ctx, options)
    _check_telemetry(ctx)
    url = ctx.orchestrator_plugin().service_url()
    if not url:
        raise FloeError(f"this manifest runs {ctx.artifacts.plugins.orchestrator.type} in-process "
                        "(plugins.orchestrator.url is not set)",
                        hint="drop --platform, or use the platform manifest (demo/manifest.yaml)")
    dbt_manifest = ensure_dbt_manifest(ctx)
    return _Prepared(ctx, url, max(artifacts_path.stat().st_mtime, dbt_manifest.stat().st_mtime), started)


def _reload_and_launch(prepared: _Prepared, console: Any, options: RunOptions | None) -> _Launched:
    ctx, url = prepared.ctx, prepared.url
    launched = time.time()
    # the manifest's orchestrator reloads the product's definitions if they are older than this
    # compile, then launches its job
    run = ctx.orchestrator_plugin().launch(ctx.artifacts, changed=prepared.changed, options=options)
    if console:
        console.print(f"[bold]{ctx.artifacts.metadata.product_name}[/]: launched run {run.run_id} on {url}")
    return _Launched(ctx, run, url, launched, prepared.started)


def _follow(run: _Launched, console: Any) -> RunResult:
    from floe.runtime.iceberg import row_counts

    ctx, name = run.ctx, run.ctx.artifacts.metadata.product_name

    def progress(st: Any) -> None:
        if console:
            done = sum(1 for s in st.steps.values() if s == "SUCCESS")
            console.print(f"  {name}: {st.status.lower()} ({done}/{max(len(st.steps), 1)} steps)")

    final = run.run.wait(on_change=progress)
    if final.status != "SUCCESS":
        # the run worker keeps dbt's run_results beside the artifacts (the same folder, locally)
        detail = ("\n".join(dbt_failures(ctx, since=run.launched)
                            or run.run.failure_messages()[-3:])
                  or final.status)
        raise RuntimeFailure(f"{name}: run {run.run.run_id} ended {final.status}\n{detail}",
                             hint=f"open {run.run.url}", run_id=run.run.run_id)
    marts = [f"{ctx.artifacts.identity.namespace}.{m.name}" for m in ctx.artifacts.transforms.models
             if m.tier == "gold"]
    counts = row_counts(ctx, marts)
    seconds = time.monotonic() - run.started
    if console:
        console.print(f"[green]{name}[/]: run {run.run.run_id} succeeded in {seconds:.1f}s")
    return RunResult(product=name, success=True, seconds=seconds, marts=counts, artifacts_path=ctx.artifacts_path,
                     run_id=run.run.run_id)


def execute(artifacts_path: Path, *, console: Any = None, started: float | None = None,
            options: RunOptions | None = None) -> RunResult:
    from floe.runtime.context import RunContext
    from floe.runtime.definitions import ProductSteps
    from floe.runtime.iceberg import row_counts
    from floe.runtime.lock import product_run
    from floe.runtime.recovery import published

    started = started or time.monotonic()
    ctx = RunContext.load(artifacts_path)
    check_options(ctx, options)
    _check_telemetry(ctx)
    name = ctx.artifacts.metadata.product_name
    if console:
        console.print(f"[bold]{name}[/]: running {len(ctx.artifacts.transforms.models)} models "
                      f"+ {len(ctx.artifacts.transforms.seeds)} seeds in-process")
    # dbt and the orchestrator are chatty; the full log goes to this run's file, the console gets the outcome.
    with product_run(ctx.out_dir, name) as log_path:
        launched = time.time()
        with log_path.open("w") as log, contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            # the manifest's orchestrator builds the product's definitions and runs its job here, once
            result = ctx.orchestrator_plugin().run_in_process(ProductSteps(ctx), options)
    if result.interrupted:
        if published(ctx, result.run_id):  # the interrupt came after the publish (which it never cuts short)
            raise RunInterrupted(f"{name}: run {result.run_id} interrupted after it published: every table of the "
                                 "product is this run's", run_id=result.run_id, hint=f"full log: {log_path}")
        raise RunInterrupted(f"{name}: run {result.run_id} interrupted before it published its models' tables",
                             run_id=result.run_id, hint=f"run it again when you are ready; full log: {log_path}")
    if not result.success:
        dbt_lines = dbt_failures(ctx, since=launched)
        raise RuntimeFailure(f"{name}: run failed\n" + _failure_summary(dbt_lines, result),
                             run_id=result.run_id,
                             # a floe step's own error (ingestion, quality) carries its next step in the message
                             hint=(f"fix the model, or the data its failing test names, and rerun; full log: {log_path}"
                                   if dbt_lines else f"full log: {log_path}"))
    marts = [f"{ctx.artifacts.identity.namespace}.{m.name}" for m in ctx.artifacts.transforms.models
             if m.tier == "gold"]
    counts = row_counts(ctx, marts)
    if console:
        console.print(f"[green]{name}[/]: succeeded in {time.monotonic() - started:.1f}s (log: {log_path})")
    return RunResult(product=name, success=True, seconds=time.monotonic() - started, marts=counts,
                     artifacts_path=artifacts_path)


def check_options(ctx: Any, options: RunOptions | None) -> None:
    """Refuse options naming what the product does not have, before anything runs.

    Raises:
        FloeError: a ``--full-refresh`` name is none of the product's models or seeds (all listed).
    """
    if options is None:
        return
    a = ctx.artifacts
    known = [*(m.name for m in a.transforms.models), *a.transforms.seeds]
    unknown = [n for n in options.full_refresh if n not in known]
    if unknown:
        raise FloeError(f"--full-refresh {', '.join(unknown)}: not a model or seed of {a.metadata.product_name}",
                        hint=f"name one of: {', '.join(sorted(known))}")


def _check_telemetry(ctx: Any) -> None:
    """Say here, once, when the run's traces or lineage cannot be delivered: they are sent from where
    the run executes (Dagster's run worker, or in-process with output going to the run log), which the
    user does not watch."""
    from floe.lineage.emitter import available as lineage_available
    from floe.telemetry import available

    obs = ctx.artifacts.observability
    if obs.tracing_enabled and obs.otlp_endpoint:
        available(obs.otlp_endpoint)
    if obs.lineage_enabled:
        lineage_available(ctx.lineage_transport())


def dbt_failures(ctx: Any, *, since: float = 0.0) -> list[str]:
    """The failing dbt nodes with dbt's own message, and the models left out downstream of them, from
    the run_results the run kept (if written after ``since``, a Unix time)."""
    from floe.runtime.observe import failed_dbt_nodes

    return failed_dbt_nodes(ctx, since=since).lines()


def _failure_summary(dbt_lines: list[str], result: InProcessRun) -> str:
    """The failing dbt nodes of this run (:func:`dbt_failures`), else the orchestrator's step errors
    (as dbt said them), the same as for a platform run."""
    lines = dbt_lines
    if not lines:
        lines = ["  " + message[:800] for message in result.step_errors]
    return "\n".join(lines) or "  (no detail; see the log)"
