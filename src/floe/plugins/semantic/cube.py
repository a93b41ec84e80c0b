from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import yaml

from floe.config._base import SecretRef, Url
from floe.config.plugins import PluginConfig
from floe.errors import PluginError
from floe.plugins._http import http_ok
from floe.plugins.base import HealthStatus
from floe.plugins.interfaces import SemanticLayerPlugin

if TYPE_CHECKING:
    from floe.contract import CompiledArtifacts
    from floe.contract.semantic import SemanticSpec

_CUBE_AGG = {"sum": "sum", "count": "count", "count_distinct": "count_distinct", "avg": "avg", "min": "min",
             "max": "max"}
_IDENT = re.compile(r"'(?:[^']|'')*'|[A-Za-z_][A-Za-z0-9_]*")


class CubeConfig(PluginConfig):
    type: Literal["cube"]
    api_url: Url = "http://127.0.0.1:4000/cubejs-api/v1"
    api_secret: SecretRef | None = None


class CubePlugin(SemanticLayerPlugin):
    """Cube data model for the Kubernetes deployment: one cube per semantic model of floe.yaml."""

    name: ClassVar[str] = "cube"
    description: ClassVar[str] = "Cube semantic layer"
    config_model = CubeConfig
    config: CubeConfig | None

    def generate_model(self, artifacts: CompiledArtifacts) -> dict[str, str]:
        """``model/cubes/<product>.yml``: cubes with dimensions, measures and joins; every metric is a measure.

        Entities become primary-key dimensions and a ``foreign`` entity a ``many_to_one`` join to the cube
        whose primary entity has its name. A metric over a measure of another name, and a metric
        expression, become ``type: number`` measures referring to ``{cube.member}``. Empty when the
        product has no semantic section.
        """
        spec = artifacts.semantic
        if spec is None:
            return {}
        cubes = cube_model(spec, artifacts.identity.namespace)
        return {f"model/cubes/{artifacts.metadata.product_name}.yml": yaml.safe_dump({"cubes": cubes},
                                                                                      sort_keys=False)}

    def deploy_values(self, products: Sequence[CompiledArtifacts]) -> dict[str, Any]:
        """The generated model of every product with a semantic section: the files the chart's Cube
        mounts at /cube/conf/model (ConfigMap keys are file names: ``<product>.yml``)."""
        models = {path.rsplit("/", 1)[-1]: text for a in products for path, text in self.generate_model(a).items()}
        return {"cube": {"models": models}} if models else {}

    def health_check(self, timeout: float = 5.0) -> HealthStatus:
        if self.config is None:
            return self.not_configured()
        return http_ok(self.config.api_url.rsplit("/cubejs-api", 1)[0] + "/readyz", timeout)


def cube_model(spec: SemanticSpec, namespace: str) -> list[dict[str, Any]]:
    """The semantic section as Cube cubes over ``<namespace>.<model>`` tables."""
    owner_of_entity = {e.name: m.name for m in spec.models for e in m.entities if e.type in ("primary", "unique")}
    cubes: dict[str, dict[str, Any]] = {}
    for m in spec.models:
        cube: dict[str, Any] = {"name": m.name, "sql_table": f"{namespace}.{m.model}"}
        if m.description:
            cube["description"] = m.description
        joins = []
        for e in m.entities:
            if e.type == "foreign":
                other = spec.model(owner_of_entity[e.name])
                key = next(x for x in other.entities if x.name == e.name).column_name
                joins.append({"name": other.name, "relationship": "many_to_one",
                              "sql": f"{{CUBE}}.{e.column_name} = {{{other.name}}}.{key}"})
        if joins:
            cube["joins"] = joins
        dims: list[dict[str, Any]] = []
        for e in m.entities:
            dim: dict[str, Any] = {"name": e.name, "sql": e.column_name, "type": "string"}
            if e.type == "primary":
                dim["primary_key"] = True
                dim["public"] = True
            dims.append(dim)
        for d in m.dimensions:
            dim = {"name": d.name, "sql": d.column_name, "type": "time" if d.type == "time" else "string"}
            if d.description:
                dim["description"] = d.description
            dims.append(dim)
        cube["dimensions"] = dims
        measures: list[dict[str, Any]] = []
        for x in m.measures:
            measure: dict[str, Any] = {"name": x.name, "type": _CUBE_AGG[x.agg]}
            if x.column is not None:
                measure["sql"] = x.column
            if x.description:
                measure["description"] = x.description
            measures.append(measure)
        cube["measures"] = measures
        cubes[m.name] = cube

    def home(metric: str) -> str:
        return spec.measure_owner(spec.base_measures(metric)[0]).name

    for metric in spec.metrics:
        cube = cubes[home(metric.name)]
        members = {x["name"]: x for x in cube["measures"]}
        if metric.measure == metric.name:
            target = members[metric.name]  # the measure is the metric: describe it in place
        else:
            if metric.name in members or any(d["name"] == metric.name for d in cube["dimensions"]):
                raise PluginError(f"metric {metric.name!r} has the name of another member of cube {cube['name']!r}",
                                  plugin="cube", hint="rename the metric or that measure in floe.yaml")
            sql = (f"{{{metric.measure}}}" if metric.measure is not None
                   else _cube_expression(metric.expression or "", {n: home(n) for n in metric.referenced_metrics()}))
            target = {"name": metric.name, "type": "number", "sql": sql}
            cube["measures"].append(target)
        if metric.label:
            target["title"] = metric.label
        if metric.description:
            target["description"] = metric.description
    return list(cubes.values())


def _cube_expression(expression: str, homes: dict[str, str]) -> str:
    """Metric names -> ``{cube.metric}`` references (string literals and functions left alone)."""

    def ref(match: re.Match[str]) -> str:
        word = match.group(0)
        return f"{{{homes[word]}.{word}}}" if word in homes else word

    return _IDENT.sub(ref, expression)
