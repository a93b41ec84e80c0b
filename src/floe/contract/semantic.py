"""The ``semantic:`` section of floe.yaml: metrics and dimensions over a product's tables.

A semantic model names one dbt model of the product (usually a mart), its entities (join keys),
dimensions (columns to group and filter by) and measures (aggregations of columns). Metrics are what
people query: a measure as it is, or an expression over other metrics. Models join through entities:
a ``foreign`` entity in one model and the ``primary`` entity of the same name in another.

Everything here checks the section on its own; :func:`floe.semantic.validate_semantic` checks it
against the dbt project (models and documented columns).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from floe.contract._base import FloeModel

_NAME = re.compile(r"^[a-z](?:(?!__)[a-z0-9_])*[a-z0-9]$")
_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
GRANULARITIES = ("hour", "day", "week", "month", "quarter", "year")
# MetricFlow keeps these for itself: the shared time axis and the time grains.
_RESERVED = {"metric_time", "mf_internal_uuid", "nanosecond", "microsecond", "millisecond", "second", "minute",
             *GRANULARITIES}
_EXPR_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Words a metric expression may use besides metric names (functions are recognised by their "(").
_EXPR_WORDS = {"and", "or", "not", "null", "is", "case", "when", "then", "else", "end", "true", "false", "as",
               "double", "decimal", "bigint", "integer", "float"}


def _name(value: str) -> str:
    if not _NAME.match(value):
        raise ValueError(f"name {value!r} must be lower_snake_case: a-z, 0-9 and single underscores, "
                         f"starting with a letter, at least 2 characters (e.g. total_revenue)")
    if value in _RESERVED:
        raise ValueError(f"name {value!r} is reserved (metric_time and time grains {', '.join(GRANULARITIES)}); "
                         f"pick another name")
    return value


def _column(value: str) -> str:
    if not _COLUMN.match(value):
        raise ValueError(f"column {value!r} must be a plain column name (letters, digits, _), not an expression")
    return value


Name = Annotated[str, AfterValidator(_name)]
Column = Annotated[str, AfterValidator(_column)]
EntityType = Literal["primary", "unique", "foreign", "natural"]
Aggregation = Literal["sum", "count", "count_distinct", "avg", "min", "max"]
Granularity = Literal["hour", "day", "week", "month", "quarter", "year"]


class Entity(FloeModel):
    """A key of the model. ``primary``: one row per value (the model's grain); ``foreign``: points at
    another model's primary entity of the same name, which declares the join."""

    name: Name
    type: EntityType = "primary"
    column: Column | None = None
    """Defaults to ``name``."""
    description: str = ""

    @property
    def column_name(self) -> str:
        return self.column or self.name


class Dimension(FloeModel):
    name: Name
    type: Literal["categorical", "time"] = "categorical"
    column: Column | None = None
    """Defaults to ``name``."""
    granularity: Granularity | None = None
    """Time dimensions only: the finest grain the column holds (default ``day``)."""
    description: str = ""

    @model_validator(mode="after")
    def _granularity_for_time_only(self) -> Dimension:
        if self.granularity is not None and self.type != "time":
            raise ValueError(f"dimension {self.name!r}: granularity is only allowed with type: time")
        return self

    @property
    def column_name(self) -> str:
        return self.column or self.name

    @property
    def grain(self) -> str:
        return self.granularity or "day"


class Measure(FloeModel):
    name: Name
    agg: Aggregation
    column: Column | None = None
    """The column aggregated; may be left out only for ``agg: count`` (counts rows)."""
    description: str = ""

    @model_validator(mode="after")
    def _column_unless_row_count(self) -> Measure:
        if self.column is None and self.agg != "count":
            raise ValueError(f"measure {self.name!r}: agg {self.agg!r} needs a column "
                             f"(only agg: count may leave it out, to count rows)")
        return self


class SemanticModel(FloeModel):
    name: Name
    model: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=128)]
    """The dbt model (a transform of this product, usually a gold mart) the semantic model reads."""
    description: str = ""
    entities: Annotated[list[Entity], Field(min_length=1)]
    dimensions: list[Dimension] = Field(default_factory=list)
    measures: list[Measure] = Field(default_factory=list)
    time_dimension: Name | None = None
    """The time dimension measures are aggregated over (``metric_time``); defaults to the first one."""

    @model_validator(mode="after")
    def _consistent(self) -> SemanticModel:
        primaries = [e.name for e in self.entities if e.type == "primary"]
        if len(primaries) != 1:
            raise ValueError(f"semantic model {self.name!r} needs exactly one entity with type: primary "
                             f"(the grain of {self.model}, e.g. its id column); found {primaries or 'none'}")
        seen: dict[str, str] = {}
        for kind, names in (("entity", [e.name for e in self.entities]),
                            ("dimension", [d.name for d in self.dimensions]),
                            ("measure", [m.name for m in self.measures])):
            for n in names:
                if n in seen:
                    raise ValueError(f"semantic model {self.name!r}: {kind} {n!r} is declared twice "
                                     f"(already a {seen[n]}); names must be unique within a model")
                seen[n] = kind
        times = [d.name for d in self.dimensions if d.type == "time"]
        if self.time_dimension is not None and self.time_dimension not in times:
            raise ValueError(f"semantic model {self.name!r}: time_dimension {self.time_dimension!r} is not one of "
                             f"its time dimensions ({', '.join(times) or 'none declared'})")
        if self.measures and not times:
            raise ValueError(f"semantic model {self.name!r} has measures but no time dimension; measures are "
                             f"aggregated over time (metric_time): add a dimension with type: time "
                             f"(e.g. the model's date column)")
        return self

    @property
    def primary_entity(self) -> Entity:
        return next(e for e in self.entities if e.type == "primary")

    @property
    def agg_time_dimension(self) -> str | None:
        if self.time_dimension:
            return self.time_dimension
        return next((d.name for d in self.dimensions if d.type == "time"), None)

    def columns(self) -> list[str]:
        """Every column the model reads, in declaration order, without repeats."""
        cols = [e.column_name for e in self.entities] + [d.column_name for d in self.dimensions]
        cols += [m.column for m in self.measures if m.column]
        return list(dict.fromkeys(cols))


class Metric(FloeModel):
    """A measure as it is (``measure``) or an expression over other metrics (``expression``)."""

    name: Name
    measure: Name | None = None
    expression: Annotated[str, Field(min_length=1, max_length=2000)] | None = None
    label: str | None = None
    description: str = ""

    @model_validator(mode="after")
    def _one_source(self) -> Metric:
        if (self.measure is None) == (self.expression is None):
            raise ValueError(f"metric {self.name!r} needs exactly one of measure (a measure's name) or expression "
                             f"(arithmetic over other metrics, e.g. revenue / orders)")
        return self

    def referenced_metrics(self) -> list[str]:
        """Metric names the expression uses (identifiers that are not functions or SQL words)."""
        if self.expression is None:
            return []
        text = _strip_strings(self.expression)
        names: list[str] = []
        for match in _EXPR_IDENT.finditer(text):
            word = match.group(0)
            if word.lower() in _EXPR_WORDS or text[match.end():].lstrip().startswith("("):
                continue
            if word not in names:
                names.append(word)
        return names


def _strip_strings(text: str) -> str:
    """Blank out single-quoted literals so words inside them are not read as names."""
    return re.sub(r"'(?:[^']|'')*'", lambda m: " " * len(m.group(0)), text)


class SemanticSpec(FloeModel):
    """``semantic:`` in floe.yaml."""

    models: Annotated[list[SemanticModel], Field(min_length=1)]
    metrics: Annotated[list[Metric], Field(min_length=1)]

    @model_validator(mode="after")
    def _references(self) -> SemanticSpec:
        _unique("models", [m.name for m in self.models])
        _unique("metrics", [m.name for m in self.metrics])
        measures: dict[str, str] = {}
        dims: dict[str, str] = {}
        for model in self.models:
            for m in model.measures:
                if m.name in measures:
                    raise ValueError(f"measure {m.name!r} is declared in models {measures[m.name]!r} and "
                                     f"{model.name!r}; measure names are unique across the section")
                measures[m.name] = model.name
            for d in model.dimensions:
                if d.name in dims:
                    raise ValueError(f"dimension {d.name!r} is declared in models {dims[d.name]!r} and "
                                     f"{model.name!r}; dimension names are unique across the section so "
                                     f"`--group-by {d.name}` means one column (rename one of them)")
                dims[d.name] = model.name
        entities = {e.name for model in self.models for e in model.entities}
        clash = sorted(entities & set(dims))
        if clash:
            raise ValueError(f"{clash} used both as entity and dimension names; rename the dimension")
        joinable = {e.name for model in self.models for e in model.entities if e.type in ("primary", "unique")}
        for i, model in enumerate(self.models):
            for j, e in enumerate(model.entities):
                if e.type == "foreign" and e.name not in joinable:
                    raise ValueError(
                        f"models[{i}].entities[{j}]: foreign entity {e.name!r} of {model.name!r} joins nothing: no "
                        f"model has a primary or unique entity {e.name!r} (declared: {', '.join(sorted(joinable))})")
        metric_names = [m.name for m in self.metrics]
        for i, metric in enumerate(self.metrics):
            if metric.measure is not None and metric.measure not in measures:
                raise ValueError(f"metrics[{i}] ({metric.name}): measure {metric.measure!r} is not declared; "
                                 f"declared measures: {', '.join(sorted(measures)) or 'none'}")
            for ref in metric.referenced_metrics():
                if ref not in metric_names:
                    raise ValueError(f"metrics[{i}] ({metric.name}): expression uses {ref!r}, which is not a metric; "
                                     f"an expression combines metrics: {', '.join(metric_names)}")
                if ref == metric.name:
                    raise ValueError(f"metrics[{i}] ({metric.name}): expression refers to the metric itself")
            if metric.expression is not None and not metric.referenced_metrics():
                raise ValueError(f"metrics[{i}] ({metric.name}): expression {metric.expression!r} uses no metric")
        self._check_cycles()
        return self

    def _check_cycles(self) -> None:
        deps = {m.name: m.referenced_metrics() for m in self.metrics}
        state: dict[str, int] = {}

        def visit(name: str, chain: list[str]) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                raise ValueError("metric expressions refer to each other in a cycle: "
                                 + " -> ".join([*chain[chain.index(name):], name]))
            state[name] = 1
            for dep in deps.get(name, []):
                visit(dep, [*chain, name])
            state[name] = 2

        for name in deps:
            visit(name, [])

    # -- lookups ---------------------------------------------------------------------------------
    def model(self, name: str) -> SemanticModel:
        return next(m for m in self.models if m.name == name)

    def metric(self, name: str) -> Metric | None:
        return next((m for m in self.metrics if m.name == name), None)

    def measure_owner(self, measure: str) -> SemanticModel:
        return next(m for m in self.models if any(x.name == measure for x in m.measures))

    def dimensions(self) -> Iterator[tuple[SemanticModel, Dimension]]:
        for model in self.models:
            for d in model.dimensions:
                yield model, d

    def find_dimension(self, name: str) -> tuple[SemanticModel, Dimension] | None:
        return next(((m, d) for m, d in self.dimensions() if d.name == name), None)

    def entity_names(self) -> list[str]:
        return list(dict.fromkeys(e.name for m in self.models for e in m.entities))

    def base_measures(self, metric: str) -> list[str]:
        """Measures a metric is computed from, following expressions down to simple metrics."""
        m = self.metric(metric)
        if m is None:
            return []
        if m.measure is not None:
            return [m.measure]
        out: list[str] = []
        for ref in m.referenced_metrics():
            out += [x for x in self.base_measures(ref) if x not in out]
        return out


def _unique(what: str, names: list[str]) -> None:
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"{what}: {dupes} declared more than once; names must be unique")
