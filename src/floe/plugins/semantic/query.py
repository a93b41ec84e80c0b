"""`floe semantic query`: names a person types -> a MetricFlow request -> rows.

Names are floe's: ``--metric revenue --group-by segment --where "segment = 'smb'"``. This module turns
them into MetricFlow's qualified names (``customer__segment``, ``{{ Dimension('customer__segment') }}``),
with errors that list what is allowed. It imports nothing heavy; :mod:`floe.plugins.semantic.metricflow_engine` runs the
request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from floe.contract.semantic import GRANULARITIES, SemanticSpec
from floe.errors import FloeError

if TYPE_CHECKING:
    from floe.contract import CompiledArtifacts


class QueriedProduct(Protocol):
    """What a semantic layer reads of the product it answers for (the runtime's RunContext is one)."""

    @property
    def artifacts(self) -> CompiledArtifacts: ...

    def catalog(self) -> Any:
        """The product's Iceberg catalog (PyIceberg), credentials resolved by its secrets plugin."""
        ...

METRIC_TIME = "metric_time"
_TOKEN = re.compile(
    r"""(?P<str>'(?:[^']|'')*')|(?P<jinja>\{\{.*?\}\})|(?P<ident>[A-Za-z_][A-Za-z0-9_]*)|(?P<other>.)""", re.S)
# SQL words a --where may use around dimension names.
_SQL_WORDS = {
    "and", "or", "not", "in", "is", "null", "like", "ilike", "between", "true", "false", "case", "when", "then",
    "else", "end", "cast", "as", "date", "timestamp", "interval", "varchar", "integer", "bigint", "double",
    "decimal", "day", "days", "month", "months", "year", "years", "hour", "hours", "week", "weeks", "current_date",
}


class SemanticQueryError(FloeError):
    """A query names something the product's semantic section does not have, or MetricFlow refused it."""

    exit_code = 2


@dataclass(frozen=True)
class QueryRequest:
    metrics: list[str]
    group_by: list[str] = field(default_factory=list)
    where: list[str] = field(default_factory=list)
    order_by: list[str] | None = None
    """Default: the group-by columns, ascending (so output is stable)."""
    limit: int | None = None


@dataclass(frozen=True)
class ResolvedQuery:
    """The request in MetricFlow's names, and how to name MetricFlow's output columns back."""

    metrics: list[str]
    group_by: list[str]
    where: list[str]
    order_by: list[str]
    limit: int | None
    column_names: dict[str, str]
    """MetricFlow output column -> the name the user asked for."""


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    sql: str
    """The SQL MetricFlow generated (over ``<namespace>.<model>`` tables)."""

    def as_dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def resolve_query(spec: SemanticSpec, request: QueryRequest) -> ResolvedQuery:
    """Check every name in ``request`` against ``spec`` and spell it the MetricFlow way.

    Raises:
        SemanticQueryError: an unknown metric, group-by or --where name (with the allowed names).
    """
    if not request.metrics:
        raise SemanticQueryError("no metric asked for", hint=f"pass --metric NAME; metrics: {_metric_list(spec)}")
    for m in request.metrics:
        if spec.metric(m) is None:
            raise SemanticQueryError(f"unknown metric {m!r}", hint=f"use one of: {_metric_list(spec)}")
    if len(set(request.metrics)) != len(request.metrics):
        raise SemanticQueryError(f"a metric is asked for twice: {request.metrics}", hint="name each metric once")
    column_names: dict[str, str] = {}
    group_by: list[str] = []
    for name in request.group_by:
        mf = group_by_name(spec, name)
        if mf in group_by:
            raise SemanticQueryError(f"--group-by {name!r} is given twice", hint="name each dimension once")
        group_by.append(mf)
        column_names[mf] = name
    for m in request.metrics:
        column_names[m] = m
    order_by: list[str] = []
    for name in request.order_by if request.order_by is not None else request.group_by:
        desc = name.startswith("-")
        bare = name.removeprefix("-")
        if bare in request.metrics:
            target = bare
        elif bare in request.group_by:
            target = group_by[request.group_by.index(bare)]
        else:
            raise SemanticQueryError(f"--order-by {bare!r} is neither a queried metric nor a --group-by",
                                     hint=f"order by one of: {', '.join([*request.metrics, *request.group_by])}")
        order_by.append(("-" if desc else "") + target)
    if request.limit is not None and request.limit < 1:
        raise SemanticQueryError(f"--limit must be at least 1, got {request.limit}")
    return ResolvedQuery(metrics=list(request.metrics), group_by=group_by,
                         where=[translate_where(spec, w) for w in request.where], order_by=order_by,
                         limit=request.limit, column_names=column_names)


def group_by_name(spec: SemanticSpec, name: str) -> str:
    """``segment`` -> ``customer__segment``; ``signup_date__month`` -> ``customer__signup_date__month``;
    ``metric_time[__grain]`` and entity names as they are."""
    base, grain = _split_grain(name)
    if base == METRIC_TIME:
        return f"{METRIC_TIME}__{grain or 'day'}"
    found = spec.find_dimension(base)
    if found is not None:
        model, dim = found
        qualified = f"{model.primary_entity.name}__{dim.name}"
        if dim.type == "time":
            return f"{qualified}__{grain or dim.grain}"
        if grain is None:
            return qualified
        raise SemanticQueryError(f"--group-by {name!r}: {base!r} is a categorical dimension and has no time grain",
                                 hint=f"use --group-by {base}")
    if grain is None and base in spec.entity_names():
        return base
    raise SemanticQueryError(f"unknown dimension {name!r}", hint=f"group by one of: {_dimension_list(spec)}")


def translate_where(spec: SemanticSpec, text: str) -> str:
    """A SQL condition over floe dimension names -> MetricFlow's templated filter.

    ``segment = 'smb' and signup_date >= '2024-01-01'`` becomes
    ``{{ Dimension('customer__segment') }} = 'smb' and {{ TimeDimension('customer__signup_date', 'day') }} >= ...``.
    A filter already written in MetricFlow's ``{{ Dimension(...) }}`` form passes through unchanged.
    """
    if "{{" in text:
        return text
    out: list[str] = []
    for tok in _TOKEN.finditer(text):
        ident = tok.group("ident")
        if ident is None:
            out.append(tok.group(0))
            continue
        if ident.lower() in _SQL_WORDS or text[tok.end():].lstrip().startswith("("):
            out.append(ident)
            continue
        out.append(_filter_ref(spec, ident, text))
    return "".join(out)


def _filter_ref(spec: SemanticSpec, ident: str, text: str) -> str:
    base, grain = _split_grain(ident)
    if base == METRIC_TIME:
        return f"{{{{ TimeDimension('{METRIC_TIME}', '{grain or 'day'}') }}}}"
    found = spec.find_dimension(base)
    if found is not None:
        model, dim = found
        qualified = f"{model.primary_entity.name}__{dim.name}"
        if dim.type == "time":
            return f"{{{{ TimeDimension('{qualified}', '{grain or dim.grain}') }}}}"
        if grain is None:
            return f"{{{{ Dimension('{qualified}') }}}}"
    elif grain is None and base in spec.entity_names():
        return f"{{{{ Entity('{base}') }}}}"
    raise SemanticQueryError(f"--where {text!r}: unknown name {ident!r}",
                             hint=f"filter on: {_dimension_list(spec)} (quote text values: 'smb')")


def _split_grain(name: str) -> tuple[str, str | None]:
    base, sep, grain = name.rpartition("__")
    if sep and grain in GRANULARITIES:
        return base, grain
    return name, None


def _metric_list(spec: SemanticSpec) -> str:
    return ", ".join(m.name for m in spec.metrics)


def _dimension_list(spec: SemanticSpec) -> str:
    names = [d.name + ("[__day|__month|...]" if d.type == "time" else "") for _, d in spec.dimensions()]
    return ", ".join([*names, *spec.entity_names(), f"{METRIC_TIME}[__day|__month|...]"])


def require_spec(artifacts: Any) -> SemanticSpec:
    """The product's semantic section.

    Raises:
        SemanticQueryError: the product declares none.
    """
    spec: SemanticSpec | None = artifacts.semantic
    if spec is None:
        raise SemanticQueryError(
            f"product {artifacts.metadata.product_name!r} declares no semantic layer",
            hint="add a `semantic:` section (models, metrics) to its floe.yaml; `floe schema floe` shows the keys")
    return spec


def run_query(ctx: QueriedProduct, request: QueryRequest) -> QueryResult:
    """Answer ``request`` over the product's Iceberg tables (MetricFlow plans, DuckDB computes).

    Args:
        ctx: the product's compiled artifacts (``semantic`` section, catalog, namespace).
        request: metrics, group-bys, filters in floe's names.

    Returns:
        Columns named as asked, rows ordered by the group-bys (or ``order_by``), and the SQL run.

    Raises:
        SemanticQueryError: the product has no semantic section, or a name is unknown.
        FloeError: MetricFlow is missing or a table has not been built yet.
    """
    spec = require_spec(ctx.artifacts)
    resolved = resolve_query(spec, request)
    from floe.plugins.semantic.metricflow_engine import execute

    return execute(ctx, spec, resolved)
