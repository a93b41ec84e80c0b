"""Render and lint Helm charts offline with the Helm SDK embedded in ``helm-python-sdk``.

No ``helm`` binary and no cluster are needed: the Helm Go SDK is loaded from the package's shared
library on first use (so importing this module stays cheap). ``lookup`` returns nothing offline,
exactly as in ``helm template``.

    >>> from floe.k8s.render import render_chart
    >>> objs = render_chart("charts/floe-platform", ["charts/floe-platform/values-test.yaml"])
    >>> sorted({o["kind"] for o in objs})[:2]
    ['ConfigMap', 'Deployment']
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from floe.errors import FloeError

__all__ = [
    "ChartRenderError",
    "lint_chart",
    "load_values",
    "merge_values",
    "render_chart",
    "render_chart_sources",
]

StrPath = str | os.PathLike[str]


class ChartRenderError(FloeError):
    """A chart could not be loaded, validated against its schema or rendered."""


def _yaml_loader() -> Any:
    """libyaml's safe loader when PyYAML was built with it: parsing, not Helm, dominates render time."""
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def merge_values(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Merge two values trees the way ``helm -f a.yaml -f b.yaml`` does: maps merge key by key,
    everything else (lists included) is replaced by the later file."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge_values(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def load_values(values_files: Iterable[StrPath] = (), values: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Read values files in order and lay ``values`` (like ``--set``) on top.

    Raises:
        ChartRenderError: a file is missing or is not a YAML mapping.
    """
    import yaml

    result: dict[str, Any] = {}
    for path in values_files:
        try:
            loaded = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_yaml_loader()) or {}  # noqa: S506  # nosec B506 - safe loader
        except (OSError, yaml.YAMLError) as exc:
            raise ChartRenderError(f"cannot read values file {path}: {exc}") from exc
        if not isinstance(loaded, Mapping):
            raise ChartRenderError(f"values file {path} must hold a mapping, got {type(loaded).__name__}")
        result = merge_values(result, loaded)
    if values:
        result = merge_values(result, values)
    return result


def render_chart(
    chart_dir: StrPath,
    values_files: Sequence[StrPath] = (),
    *,
    values: Mapping[str, Any] | None = None,
    release_name: str | None = None,
    namespace: str = "floe",
    include_tests: bool = True,
) -> list[dict[str, Any]]:
    """Render a chart to Kubernetes objects, like ``helm template``.

    Args:
        chart_dir: the chart directory (holding Chart.yaml).
        values_files: values files applied in order (``-f``), over the chart's values.yaml.
        values: extra values applied last (``--set``).
        release_name: ``.Release.Name``; defaults to the chart directory's name.
        namespace: ``.Release.Namespace``.
        include_tests: keep ``helm test`` hooks (templates/tests/).

    Returns:
        The rendered objects in template-path order, each a dict, exactly as Helm would apply
        them; empty documents and NOTES.txt are dropped. :func:`render_chart_sources` also says
        which template each object came from.

    Raises:
        ChartRenderError: the chart cannot be loaded, the values break values.schema.json, or a
            template fails; the message carries Helm's own explanation.
    """
    return [
        obj
        for _, obj in render_chart_sources(
            chart_dir,
            values_files,
            values=values,
            release_name=release_name,
            namespace=namespace,
            include_tests=include_tests,
        )
    ]


def render_chart_sources(
    chart_dir: StrPath,
    values_files: Sequence[StrPath] = (),
    *,
    values: Mapping[str, Any] | None = None,
    release_name: str | None = None,
    namespace: str = "floe",
    include_tests: bool = True,
) -> list[tuple[str, dict[str, Any]]]:
    """Like :func:`render_chart`, but pairs each object with the template path it came from."""
    import helm_python as helm
    import yaml

    user_values = load_values(values_files, values)
    release = release_name or Path(chart_dir).resolve().name
    try:
        with helm.Chart.load(os.fspath(chart_dir)) as chart:
            manifests = chart.render(values=user_values, name=release, namespace=namespace, is_install=True)
    except helm.HelmError as exc:
        sources = [os.fspath(f) for f in values_files] + (["extra values"] if values else [])
        given = ", ".join(sources) or "its default values"
        raise ChartRenderError(f"rendering chart {os.fspath(chart_dir)} with {given} failed: {exc}") from exc

    objects: list[tuple[str, dict[str, Any]]] = []
    for template in sorted(manifests):
        if template.endswith("NOTES.txt"):
            continue
        if not include_tests and "/templates/tests/" in template:
            continue
        try:
            documents = list(yaml.load_all(manifests[template], Loader=_yaml_loader()))  # nosec B506 - safe loader
        except yaml.YAMLError as exc:
            raise ChartRenderError(f"{template} rendered invalid YAML: {exc}") from exc
        for document in documents:
            if document is None:
                continue
            if not isinstance(document, dict):
                raise ChartRenderError(f"{template} rendered a {type(document).__name__}, not an object")
            objects.append((template, document))
    return objects


def lint_chart(
    chart_dir: StrPath,
    values_files: Sequence[StrPath] = (),
    *,
    values: Mapping[str, Any] | None = None,
    strict: bool = True,
    kube_version: str | None = None,
) -> dict[str, Any]:
    """Run ``helm lint`` on a chart.

    Returns:
        Helm's report: ``{"total_charts_linted", "messages": [{"severity", "path", "error"}],
        "errors": [...]}``; severity 1=info, 2=warning, 3=error.
    """
    import helm_python as helm

    user_values = load_values(values_files, values)
    report: dict[str, Any] = helm.lint(os.fspath(chart_dir), user_values, strict=strict, kube_version=kube_version)
    return report
