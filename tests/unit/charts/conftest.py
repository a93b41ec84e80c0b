"""Render each chart/values combination once per session and share the objects between tests.

Rendering goes through the Helm SDK embedded in helm-python-sdk (no helm binary, no cluster).
Render times are reported at the end of the run (pytest -s not needed).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from floe.k8s.render import load_values, render_chart_sources

REPO = Path(__file__).resolve().parents[3]
CHARTS = REPO / "charts"
PLATFORM = CHARTS / "floe-platform"
JOBS = CHARTS / "floe-jobs"
NAMESPACE = "floe-test"

# combination id -> (chart dir, values files applied in order)
COMBINATIONS: dict[str, tuple[Path, tuple[str, ...]]] = {
    "platform-default": (PLATFORM, ()),
    "platform-test": (PLATFORM, ("values-test.yaml",)),
    "platform-demo": (PLATFORM, ("values-demo.yaml",)),
    "platform-test+demo": (PLATFORM, ("values-test.yaml", "values-demo.yaml")),
    "jobs-default": (JOBS, ()),
    "jobs-test": (JOBS, ("values-test.yaml",)),
    "jobs-demo": (JOBS, ("values-demo.yaml",)),
}
PLATFORM_COMBOS = [c for c in COMBINATIONS if c.startswith("platform-")]
JOBS_COMBOS = [c for c in COMBINATIONS if c.startswith("jobs-")]
# Combinations that run on a single Kind node.
KIND_COMBOS = ["platform-test", "platform-test+demo"]

RENDER_SECONDS: dict[str, float] = {}
K8S_VERSION = "1.30.0"  # the oldest minor we support; kubernetes-validate bundles its strict schemas
_VALID: set[str] = set()


def validate_k8s(obj: dict[str, Any]) -> None:
    """``kubernetes_validate.validate(obj, K8S_VERSION, strict=True)``, skipping objects already
    validated byte-for-byte in this session (each call re-reads the schema, ~35 ms)."""
    import kubernetes_validate

    key = json.dumps(obj, sort_keys=True)
    if key not in _VALID:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
        _VALID.add(key)


@dataclass
class Rendered:
    combo: str
    chart: Path
    values_files: tuple[Path, ...]
    values: dict[str, Any]
    sources: list[tuple[str, dict[str, Any]]]
    seconds: float
    objects: list[dict[str, Any]] = field(init=False)

    def __post_init__(self) -> None:
        self.objects = [obj for _, obj in self.sources]

    def kind(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if o["kind"] == kind]

    def named(self, kind: str, name: str) -> dict[str, Any]:
        found = [o for o in self.kind(kind) if o["metadata"]["name"] == name]
        assert found, f"{self.combo}: no {kind} named {name}; have {[o['metadata']['name'] for o in self.kind(kind)]}"
        return found[0]

    def with_component(self, component: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if labels_of(o).get("app.kubernetes.io/component") == component]


def labels_of(obj: dict[str, Any]) -> dict[str, str]:
    return obj.get("metadata", {}).get("labels") or {}


def render(
    chart: Path, values_files: tuple[str, ...] = (), values: dict[str, Any] | None = None, combo: str = "adhoc"
) -> Rendered:
    files = tuple(chart / f for f in values_files)
    started = time.perf_counter()
    sources = render_chart_sources(chart, files, values=values, release_name=chart.name, namespace=NAMESPACE)
    seconds = time.perf_counter() - started
    return Rendered(combo, chart, files, load_values(files, values), sources, seconds)


@pytest.fixture(scope="session", autouse=True)
def _helm_sdk_loaded() -> None:
    """Load the 85 MB libhelm_c.so up front so its one-off cost is reported apart from renders."""
    started = time.perf_counter()
    import helm_python  # noqa: F401

    RENDER_SECONDS["(load Helm SDK .so, once)"] = time.perf_counter() - started


@pytest.fixture(scope="session")
def rendered() -> Callable[[str], Rendered]:
    """``rendered(combo)``: the combination's objects, rendered on first use and then cached."""
    cache: dict[str, Rendered] = {}

    def get(combo: str) -> Rendered:
        if combo not in cache:
            chart, files = COMBINATIONS[combo]
            cache[combo] = render(chart, files, combo=combo)
            RENDER_SECONDS[combo] = cache[combo].seconds
        return cache[combo]

    return get


@pytest.fixture(scope="session")
def render_with() -> Callable[..., Rendered]:
    """``render_with(chart, files, values)`` for one-off variations (not cached)."""
    return render


def pod_specs(obj: dict[str, Any]) -> Iterator[tuple[dict[str, Any], int]]:
    """(pod spec, replica count) of every pod an object would run."""
    kind = obj["kind"]
    spec = obj.get("spec", {})
    if kind in ("Deployment", "StatefulSet", "ReplicaSet"):
        yield spec["template"]["spec"], int(spec.get("replicas", 1))
    elif kind == "DaemonSet":
        yield spec["template"]["spec"], 1
    elif kind == "Job":
        yield spec["template"]["spec"], int(spec.get("parallelism", 1))
    elif kind == "CronJob":
        job = spec["jobTemplate"]["spec"]
        yield job["template"]["spec"], int(job.get("parallelism", 1))
    elif kind == "Pod":
        yield spec, 1


def pod_template_labels(obj: dict[str, Any]) -> dict[str, str] | None:
    spec = obj.get("spec", {})
    if obj["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
        return spec["template"]["metadata"].get("labels") or {}
    if obj["kind"] == "CronJob":
        return spec["jobTemplate"]["spec"]["template"]["metadata"].get("labels") or {}
    if obj["kind"] == "Pod":
        return labels_of(obj)
    return None


def containers(obj: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every container and init container of an object's pods."""
    for spec, _ in pod_specs(obj):
        yield from spec.get("initContainers", [])
        yield from spec.get("containers", [])


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if RENDER_SECONDS:
        terminalreporter.write_sep("-", "chart render time per combination (Helm SDK + YAML parse)")
        for combo, seconds in sorted(RENDER_SECONDS.items()):
            terminalreporter.write_line(f"{combo:<22} {seconds:6.3f} s")
