"""Best-effort OpenLineage emission.

Lineage never breaks a compile or a run: an unreachable backend is reported once, then skipped.
Every run carries a ``floe_trace`` facet with the active OpenTelemetry trace id, so a Marquez run
leads to its Jaeger trace.
"""

from __future__ import annotations

import sys
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import attr
from openlineage.client.facet_v2 import RunFacet

from floe._net import reachable

PRODUCER = "https://github.com/floe-dev/floe"
_warned: set[str] = set()


@attr.define
class FloeTraceRunFacet(RunFacet):
    trace_id: str = ""
    span_id: str = ""

    @staticmethod
    def _get_schema() -> str:
        return "https://floe.dev/spec/facets/1-0-0/FloeTraceRunFacet.json"


@dataclass(frozen=True)
class TableRef:
    namespace: str
    name: str
    columns: list[tuple[str, str]] = field(default_factory=list)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _trace_ids() -> tuple[str, str]:
    from opentelemetry import trace

    ctx = trace.get_current_span().get_span_context()
    if not ctx.is_valid:
        return "", ""
    return f"{ctx.trace_id:032x}", f"{ctx.span_id:016x}"


class LineageEmitter:
    def __init__(self, transport: dict[str, Any] | None, namespace: str) -> None:
        self.namespace = namespace
        self.client: Any = None
        if not transport:
            return
        transport = dict(transport)
        if transport.get("type") == "http":
            if not available(transport):
                return
            transport.setdefault("retry", {"total": 1, "backoff_factor": 0.2})
        from openlineage.client import OpenLineageClient

        self.client = OpenLineageClient(config={"transport": transport})

    @property
    def enabled(self) -> bool:
        return self.client is not None

    def emit(
        self,
        state: str,
        job: str,
        run_id: str,
        *,
        inputs: list[TableRef] | None = None,
        outputs: list[TableRef] | None = None,
        event_time: str | None = None,
        parent: tuple[str, str] | None = None,
    ) -> None:
        if self.client is None:
            return
        from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
        from openlineage.client.facet_v2 import parent_run, schema_dataset

        trace_id, span_id = _trace_ids()
        # no facet rather than empty ids when no trace is recording (telemetry off or unreachable)
        facets: dict[str, Any] = (
            {"floe_trace": FloeTraceRunFacet(trace_id=trace_id, span_id=span_id)} if trace_id else {})
        if parent:
            facets["parent"] = parent_run.ParentRunFacet(
                run=parent_run.Run(runId=parent[1]), job=parent_run.Job(namespace=self.namespace, name=parent[0]))

        def ds_facets(t: TableRef) -> dict[str, Any]:
            if not t.columns:
                return {}
            return {"schema": schema_dataset.SchemaDatasetFacet(
                fields=[schema_dataset.SchemaDatasetFacetFields(name=n, type=ty) for n, ty in t.columns])}

        event = RunEvent(
            eventType=getattr(RunState, state),
            eventTime=event_time or _now(),
            run=Run(runId=run_id, facets=facets),
            job=Job(namespace=self.namespace, name=job),
            producer=PRODUCER,
            inputs=[InputDataset(namespace=t.namespace, name=t.name, facets=ds_facets(t)) for t in inputs or []],
            outputs=[OutputDataset(namespace=t.namespace, name=t.name, facets=ds_facets(t)) for t in outputs or []],
        )
        try:
            self.client.emit(event)
        except Exception as exc:  # lineage is best effort by design
            _warn_once(self.namespace, f"floe: lineage event not delivered ({type(exc).__name__}: {exc})")


def available(transport: dict[str, Any] | None) -> bool:
    """Whether events sent through ``transport`` can be delivered: an HTTP backend must accept
    connections. Says so once per process (stderr) when it does not; lineage is then skipped."""
    if not transport or transport.get("type") != "http":
        return True
    url = str(transport["url"])
    if reachable(url):
        return True
    _warn_once(url, f"floe: lineage unavailable ({url} unreachable); continuing without lineage")
    return False


def new_run_id() -> str:
    return str(uuid.uuid4())


def _warn_once(key: str, message: str) -> None:
    if key not in _warned:
        _warned.add(key)
        print(message, file=sys.stderr)
