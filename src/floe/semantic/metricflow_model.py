"""The ``semantic:`` section as MetricFlow definitions (semantic_models + metrics).

Two spellings of the same definitions:

* :func:`dbt_semantic_yaml`: the dbt project form (``model: ref('mart')``); ``dbt parse`` turns it into
  ``target/semantic_manifest.json`` for dbt's own ``mf`` CLI.
* :func:`metricflow_yaml`: MetricFlow's native form (``node_relation: {schema_name, alias}``) pointing at
  the Iceberg tables, with a time spine; floe's query engine loads it into MetricFlow directly.

Same inputs give the same bytes.
"""

from __future__ import annotations

from typing import Any

import yaml

from floe.semantic.config import Metric, SemanticModel, SemanticSpec

TIME_SPINE_SCHEMA = "floe_semantic"
TIME_SPINE_TABLE = "time_spine"
TIME_SPINE_COLUMN = "date_day"

_AGG = {"sum": "sum", "count": "count", "count_distinct": "count_distinct", "avg": "average", "min": "min",
        "max": "max"}


def semantic_model_dict(model: SemanticModel, source: dict[str, Any]) -> dict[str, Any]:
    """One MetricFlow semantic model; ``source`` is ``{"model": "ref('x')"}`` or ``{"node_relation": ...}``."""
    out: dict[str, Any] = {"name": model.name}
    if model.description:
        out["description"] = model.description
    out.update(source)
    if model.agg_time_dimension:
        out["defaults"] = {"agg_time_dimension": model.agg_time_dimension}
    out["entities"] = [{"name": e.name, "type": e.type, "expr": e.column_name} for e in model.entities]
    dims: list[dict[str, Any]] = []
    for d in model.dimensions:
        dim: dict[str, Any] = {"name": d.name, "type": d.type, "expr": d.column_name}
        if d.description:
            dim["description"] = d.description
        if d.type == "time":
            dim["type_params"] = {"time_granularity": d.grain}
        dims.append(dim)
    out["dimensions"] = dims
    measures: list[dict[str, Any]] = []
    for m in model.measures:
        measure: dict[str, Any] = {"name": m.name, "agg": _AGG[m.agg], "expr": m.column or "1"}
        if m.description:
            measure["description"] = m.description
        measures.append(measure)
    out["measures"] = measures
    return out


def metric_dict(metric: Metric) -> dict[str, Any]:
    out: dict[str, Any] = {"name": metric.name, "label": metric.label or metric.name.replace("_", " ").capitalize()}
    if metric.description:
        out["description"] = metric.description
    if metric.measure is not None:
        out["type"] = "simple"
        out["type_params"] = {"measure": metric.measure}
    else:
        out["type"] = "derived"
        out["type_params"] = {"expr": metric.expression,
                              "metrics": [{"name": n} for n in metric.referenced_metrics()]}
    return out


def dbt_semantic_yaml(spec: SemanticSpec) -> str:
    """``semantic_models:`` and ``metrics:`` for a file in the dbt project's models folder."""
    doc = {
        "version": 2,
        "semantic_models": [semantic_model_dict(m, {"model": f"ref('{m.model}')"}) for m in spec.models],
        "metrics": [metric_dict(m) for m in spec.metrics],
    }
    return _dump(doc)


def metricflow_yaml(spec: SemanticSpec, namespace: str) -> str:
    """MetricFlow's own YAML: tables ``<namespace>.<model>`` plus the time spine floe provides."""
    docs: list[dict[str, Any]] = [{"project_configuration": {"time_spines": [{
        "node_relation": {"schema_name": TIME_SPINE_SCHEMA, "alias": TIME_SPINE_TABLE},
        "primary_column": {"name": TIME_SPINE_COLUMN, "time_granularity": "day"},
    }]}}]
    docs += [{"semantic_model": semantic_model_dict(m, {"node_relation": {"schema_name": namespace,
                                                                            "alias": m.model}})}
             for m in spec.models]
    docs += [{"metric": metric_dict(m)} for m in spec.metrics]
    return "---\n".join(_dump(d) for d in docs)


def _dump(doc: dict[str, Any]) -> str:
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False, width=120)
