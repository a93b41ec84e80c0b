"""Observe a product run: a trace per run (one span per dbt node), OpenLineage per dbt model, and,
on the embedded default, publishing the tables into the SQLite-backed Iceberg catalog.

Spans carry ``service.name = <product>``; lineage jobs live in the product's namespace and every run
carries the trace id (``floe_trace`` facet) so lineage leads to the trace.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from floe.lineage.emitter import LineageEmitter, TableRef, new_run_id
from floe.runtime.context import RunContext


def run_results(ctx: RunContext) -> list[dict[str, Any]]:
    from floe.runtime.dbt import dbt_target_path

    path = dbt_target_path(ctx) / "run_results.json"
    if not path.exists():
        return []
    return list(json.loads(path.read_text())["results"])


_FAILED = {"error", "fail", "runtime error"}


@dataclass(frozen=True)
class FailedNode:
    node: str
    """dbt's unique id without the resource type: ``customer_360.int_customer_orders``."""
    kind: str
    """model, test, seed, snapshot ..."""
    status: str
    message: str

    @property
    def name(self) -> str:
        return self.node.split(".")[1] if "." in self.node else self.node


@dataclass(frozen=True)
class DbtFailures:
    """What failed in a dbt invocation, from its run_results: the failing nodes with dbt's message,
    and the models ``dbt build`` left out downstream of them."""

    failed: list[FailedNode] = field(default_factory=list)
    not_run: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        lines = [f"  {f.node} ({f.status}): {f.message}" for f in self.failed]
        if lines and self.not_run:  # dbt build skips what lies downstream of a failure (block_on_failure)
            lines.append(f"  not run, downstream of the failure: {', '.join(self.not_run)}")
        return lines


def failed_dbt_nodes(ctx: RunContext, *, since: float = 0.0) -> DbtFailures:
    """The failing nodes of the run_results the run kept, if written after ``since`` (a Unix time)."""
    from floe.runtime.dbt import dbt_target_path

    path = dbt_target_path(ctx) / "run_results.json"
    if not path.exists() or path.stat().st_mtime < since:
        return DbtFailures()
    results = run_results(ctx)
    failed = [FailedNode(r["unique_id"].split(".", 1)[-1], r["unique_id"].split(".", 1)[0], r["status"],
                         (r.get("message") or "").strip()[:500])
              for r in results if r["status"] in _FAILED]
    not_run = sorted(r["unique_id"].split(".")[-1] for r in results
                     if r["status"] == "skipped" and r["unique_id"].startswith("model."))
    return DbtFailures(failed, not_run)


def _ns(t: datetime | str | None) -> int | None:
    if t is None:
        return None
    if isinstance(t, str):
        t = datetime.fromisoformat(t.replace("Z", "+00:00"))
    return int(t.timestamp() * 1e9)


class ModelRunObserver:
    def __init__(self, ctx: RunContext, tracer: Any, lineage: LineageEmitter, run_id: str) -> None:
        self.ctx = ctx
        self.tracer = tracer
        self.lineage = lineage
        self.run_id = run_id
        self.trace_id: str | None = None
        self.exported: list[Any] = []
        self.full_refresh: set[str] = set()
        """Tables this run rebuilds from scratch (``floe run --full-refresh``)."""
        self.log: Any = None
        self._kept = False
        self._catalog: Any = None
        a = ctx.artifacts
        self.job = f"{a.identity.slug}_job"
        self.tables = {s: (a.identity.raw_namespace, s) for s in a.transforms.seeds}
        self.tables.update({m.name: (a.identity.namespace, m.name) for m in a.transforms.models})
        # written by the ingestion step (into the run's DuckDB file), not by dbt; published with the rest
        self.ingested = {s.name: (a.identity.raw_namespace, s.name) for s in a.ingestion}
        self.depends = {m.name: [*m.seeds, *m.sources, *m.depends_on] for m in a.transforms.models}

    def dbt_results(self, results: Mapping[str, Any]) -> None:
        """One dbt invocation's ``run_results.json``: kept (merged over this run's earlier ones) where
        floe looks for them."""
        from floe.runtime.dbt import dbt_target_path

        target = dbt_target_path(self.ctx)
        target.mkdir(parents=True, exist_ok=True)
        path = target / "run_results.json"
        previous = json.loads(path.read_text())["results"] if path.exists() and self._kept else []
        merged = {**{r["unique_id"]: r for r in previous}, **{r["unique_id"]: r for r in results["results"]}}
        path.write_text(json.dumps({"results": list(merged.values())}))
        self._kept = True

    def _ref(self, name: str, columns: list[tuple[str, str]] | None = None) -> TableRef:
        ns, table = self.tables[name] if name in self.tables else self.ingested[name]
        return TableRef(self.lineage.namespace, f"{ns}.{table}", columns or [])

    def publish(self) -> None:
        """After dbt and the audit: the run's tables go to Iceberg together; then per-node spans and lineage."""
        from floe.runtime.iceberg import local_tables, publish_tables
        from floe.runtime.recovery import end_run

        # an ingested table whose source has never returned rows is in neither place: nothing to publish
        present = local_tables(self.ctx) if self.ingested else set()
        ingested = [t for t in self.ingested.values() if t in present]
        self.exported = publish_tables(self.ctx, [*ingested, *self.tables.values()], run_id=self.run_id,
                                       full_refresh=self.full_refresh, log=self.log)
        end_run(self.ctx)
        self.record_nodes()

    def record_nodes(self) -> None:
        """One span and one START + COMPLETE/FAIL/ABORT lineage pair per dbt model and seed, from the
        run_results this run kept (none when dbt failed before writing them: an older run's results
        must not be reported as this run's). A model dbt skipped, downstream of a failure, is ABORTed,
        and its span is not an error: the failure is the node it depends on."""
        from opentelemetry import trace
        from opentelemetry.trace import Status, StatusCode

        if not self._kept:
            return
        for r in run_results(self.ctx):
            kind, _, rest = r["unique_id"].partition(".")
            name = rest.split(".")[-1]
            if kind not in {"model", "seed"} or name not in self.tables:
                continue
            timing = {t["name"]: t for t in r.get("timing", [])}
            start = _ns((timing.get("compile") or timing.get("execute") or {}).get("started_at"))
            end = _ns((timing.get("execute") or {}).get("completed_at"))
            ok = r["status"] in {"success", "pass"}
            state = "COMPLETE" if ok else "ABORT" if r["status"] == "skipped" else "FAIL"
            span = self.tracer.start_span(f"dbt.{kind} {name}", start_time=start, attributes={
                "floe.product": self.ctx.artifacts.metadata.product_name, "dbt.unique_id": r["unique_id"],
                "dbt.status": r["status"], "floe.table": ".".join(self.tables[name]),
            })
            if state == "FAIL":
                span.set_status(Status(StatusCode.ERROR, (r.get("message") or "")[:500]))
            with trace.use_span(span, end_on_exit=False):
                model_run = new_run_id()
                inputs = [self._ref(d) for d in self.depends.get(name, [])]
                # what a failed model left in the catalog is an older table, not this run's output
                outputs = [self._ref(name, self._columns(name) if ok else None)]
                started = (timing.get("compile") or timing.get("execute") or {}).get("started_at")
                completed = (timing.get("execute") or {}).get("completed_at")
                self.lineage.emit("START", name, model_run, inputs=inputs, outputs=outputs,
                                  event_time=_iso(started), parent=(self.job, self.run_id))
                self.lineage.emit(state, name, model_run, inputs=inputs, outputs=outputs,
                                  event_time=_iso(completed), parent=(self.job, self.run_id))
            span.end(end_time=end)

    def _columns(self, name: str) -> list[tuple[str, str]]:
        ident = ".".join(self.tables[name])
        for t in self.exported:
            if t.identifier == ident:
                return list(t.columns)
        try:  # written by dbt straight into the catalog: ask the catalog
            from floe.runtime.iceberg import load_catalog

            if self._catalog is None:
                self._catalog = load_catalog(self.ctx)
            schema = self._catalog.load_table(ident).schema()
            return [(f.name, str(f.field_type)) for f in schema.fields]
        except Exception:
            return []


def _iso(value: str | None) -> str | None:
    if not value:
        return None
    return value if value.endswith("Z") else value.replace("+00:00", "") + "Z"


@contextmanager
def model_run_observer(ctx: RunContext) -> Iterator[ModelRunObserver]:
    """A product run: root span ``floe.run <product>`` and the product job's lineage around it."""
    from opentelemetry.trace import Status, StatusCode

    from floe.telemetry import flush, product_tracer

    obs = ctx.artifacts.observability
    tracer = product_tracer(obs.service_name, obs.otlp_endpoint if obs.tracing_enabled else None,
                            obs.otlp_protocol)
    lineage = LineageEmitter(ctx.lineage_transport() if obs.lineage_enabled else None, obs.lineage_namespace)
    run_id = new_run_id()
    name = ctx.artifacts.metadata.product_name
    try:
        with tracer.start_as_current_span(f"floe.run {name}", attributes={
            "floe.product": name, "floe.product_version": ctx.artifacts.metadata.product_version,
            "floe.model_count": len(ctx.artifacts.transforms.models),
        }) as span:
            observer = ModelRunObserver(ctx, tracer, lineage, run_id)
            if span.get_span_context().is_valid:
                observer.trace_id = f"{span.get_span_context().trace_id:032x}"
            job = observer.job
            raw = [observer._ref(s) for s in [*ctx.artifacts.transforms.seeds, *observer.ingested]]
            marts = [observer._ref(m.name) for m in ctx.artifacts.transforms.models if m.tier == "gold"]
            lineage.emit("START", job, run_id, inputs=raw, outputs=marts)
            try:
                yield observer
            except BaseException as exc:
                try:
                    observer.record_nodes()
                except Exception as problem:  # never in place of the run's own error
                    print(f"floe: the failed run's model spans and lineage were not recorded "
                          f"({type(problem).__name__}: {problem})", file=sys.stderr)
                span.set_status(Status(StatusCode.ERROR, str(exc)[:500]))
                lineage.emit("FAIL", job, run_id, inputs=raw, outputs=marts)
                raise
            else:
                lineage.emit("COMPLETE", job, run_id, inputs=raw, outputs=marts)
            finally:
                span.set_attribute("floe.trace_id", f"{span.get_span_context().trace_id:032x}")
    finally:  # a failed run's spans matter most: export them before the run worker exits
        flush()
