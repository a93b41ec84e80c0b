"""Observe a product run: a trace per run (one span per dbt node), OpenLineage per dbt model, and,
on the embedded default, publishing the tables into the SQLite-backed Iceberg catalog.

Spans carry ``service.name = <product>``; lineage jobs live in the product's namespace and every run
carries the trace id (``floe_trace`` facet) so lineage leads to the trace.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from floe.lineage.emitter import LineageEmitter, TableRef, new_run_id
from floe.runtime.context import RunContext


def run_results(ctx: RunContext) -> list[dict[str, Any]]:
    from floe.runtime.dagster import dbt_target_path

    path = dbt_target_path(ctx) / "run_results.json"
    if not path.exists():
        return []
    return list(json.loads(path.read_text())["results"])


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
        self.exported: list[Any] = []
        self._kept = False
        self._catalog: Any = None
        a = ctx.artifacts
        self.job = f"{a.identity.slug}_job"
        self.tables = {s: (a.identity.raw_namespace, s) for s in a.transforms.seeds}
        self.tables.update({m.name: (a.identity.namespace, m.name) for m in a.transforms.models})
        self.depends = {m.name: [*m.seeds, *m.depends_on] for m in a.transforms.models}

    def watch(self, invocation: Any) -> Iterator[Any]:
        """Stream a dagster-dbt invocation; keep its run_results where floe looks for them."""
        try:
            yield from invocation.stream()
        finally:
            self._keep_run_results(invocation)

    def _keep_run_results(self, invocation: Any) -> None:
        from floe.runtime.dagster import dbt_target_path

        try:
            results = invocation.get_artifact("run_results.json")
        except Exception:  # dbt failed before writing it
            return
        target = dbt_target_path(self.ctx)
        target.mkdir(parents=True, exist_ok=True)
        path = target / "run_results.json"
        previous = json.loads(path.read_text())["results"] if path.exists() and self._kept else []
        merged = {**{r["unique_id"]: r for r in previous}, **{r["unique_id"]: r for r in results["results"]}}
        path.write_text(json.dumps({"results": list(merged.values())}))
        self._kept = True

    def _ref(self, name: str, columns: list[tuple[str, str]] | None = None) -> TableRef:
        ns, table = self.tables[name]
        return TableRef(self.lineage.namespace, f"{ns}.{table}", columns or [])

    def publish(self) -> None:
        """After dbt: embedded tables go to Iceberg; then per-node spans and lineage."""
        if self.ctx.artifacts.dbt.vars.get("floe_materialized") == "table":
            from floe.runtime.iceberg import export_tables

            self.exported = export_tables(self.ctx, list(self.tables.values()))
        else:
            from floe.runtime.iceberg import apply_table_properties

            apply_table_properties(self.ctx, [".".join(t) for t in self.tables.values()])
        self.record_nodes()

    def record_nodes(self) -> None:
        """One span and one START + COMPLETE/FAIL lineage pair per dbt model and seed, from run_results."""
        from opentelemetry import trace
        from opentelemetry.trace import Status, StatusCode

        for r in run_results(self.ctx):
            kind, _, rest = r["unique_id"].partition(".")
            name = rest.split(".")[-1]
            if kind not in {"model", "seed"} or name not in self.tables:
                continue
            timing = {t["name"]: t for t in r.get("timing", [])}
            start = _ns((timing.get("compile") or timing.get("execute") or {}).get("started_at"))
            end = _ns((timing.get("execute") or {}).get("completed_at"))
            ok = r["status"] in {"success", "pass"}
            span = self.tracer.start_span(f"dbt.{kind} {name}", start_time=start, attributes={
                "floe.product": self.ctx.artifacts.metadata.product_name, "dbt.unique_id": r["unique_id"],
                "dbt.status": r["status"], "floe.table": ".".join(self.tables[name]),
            })
            if not ok:
                span.set_status(Status(StatusCode.ERROR, (r.get("message") or "")[:500]))
            with trace.use_span(span, end_on_exit=False):
                model_run = new_run_id()
                inputs = [self._ref(d) for d in self.depends.get(name, [])]
                outputs = [self._ref(name, self._columns(name))]
                started = (timing.get("compile") or timing.get("execute") or {}).get("started_at")
                completed = (timing.get("execute") or {}).get("completed_at")
                self.lineage.emit("START", name, model_run, inputs=inputs, outputs=outputs,
                                  event_time=_iso(started), parent=(self.job, self.run_id))
                self.lineage.emit("COMPLETE" if ok else "FAIL", name, model_run, inputs=inputs, outputs=outputs,
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
    with tracer.start_as_current_span(f"floe.run {name}", attributes={
        "floe.product": name, "floe.product_version": ctx.artifacts.metadata.product_version,
        "floe.model_count": len(ctx.artifacts.transforms.models),
    }) as span:
        observer = ModelRunObserver(ctx, tracer, lineage, run_id)
        job = observer.job
        raw = [observer._ref(s) for s in ctx.artifacts.transforms.seeds]
        marts = [observer._ref(m.name) for m in ctx.artifacts.transforms.models if m.tier == "gold"]
        lineage.emit("START", job, run_id, inputs=raw, outputs=marts)
        try:
            yield observer
        except BaseException as exc:
            observer.record_nodes()
            span.set_status(Status(StatusCode.ERROR, str(exc)[:500]))
            lineage.emit("FAIL", job, run_id, inputs=raw, outputs=marts)
            raise
        else:
            lineage.emit("COMPLETE", job, run_id, inputs=raw, outputs=marts)
        finally:
            span.set_attribute("floe.trace_id", f"{span.get_span_context().trace_id:032x}")
    flush()
