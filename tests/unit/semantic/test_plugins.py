"""Semantic-layer plugins (every implementation) over compiled demo artifacts; compile carries the section."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from tests.conftest import DEMO, PRODUCTS

from floe.compiler.stages import compile_pipeline
from floe.contract import CompiledArtifacts
from floe.errors import ConfigError
from floe.plugins.base import HealthState
from floe.plugins.interfaces import SemanticLayerPlugin
from floe.plugins.registry import get_registry
from floe.plugins.types import PluginType

SEMANTIC_PLUGINS = ["cube", "metricflow"]


def _plugin(name: str) -> SemanticLayerPlugin:
    plugin = get_registry().create(PluginType.SEMANTIC_LAYER, name, {"type": name})
    assert isinstance(plugin, SemanticLayerPlugin)
    return plugin


def test_every_installed_semantic_plugin_is_covered() -> None:
    assert sorted(get_registry().names(PluginType.SEMANTIC_LAYER)) == SEMANTIC_PLUGINS


@pytest.mark.parametrize("name", SEMANTIC_PLUGINS)
@pytest.mark.parametrize("product", PRODUCTS)
def test_generate_model_covers_every_metric_and_dimension(name: str, product: str) -> None:
    artifacts = compile_pipeline(DEMO / product, DEMO / "manifest.yaml")
    assert artifacts.semantic is not None
    files = _plugin(name).generate_model(artifacts)
    assert files, f"{name} generated nothing for {product}"
    text = "".join(files.values())
    for rel, doc in files.items():
        if rel.endswith(".yml"):
            list(yaml.safe_load_all(doc))  # every definition file is YAML
    for metric in artifacts.semantic.metrics:
        assert f"name: {metric.name}\n" in text
    for _, dim in artifacts.semantic.dimensions():
        assert f"name: {dim.name}\n" in text
    assert _plugin(name).generate_model(artifacts) == files  # deterministic


@pytest.mark.parametrize("name", SEMANTIC_PLUGINS)
def test_no_semantic_section_generates_nothing(name: str) -> None:
    artifacts = compile_pipeline(DEMO / "customer-360", DEMO / "manifest.yaml")
    assert _plugin(name).generate_model(artifacts.model_copy(update={"semantic": None})) == {}


def test_metricflow_files_are_the_dbt_and_native_forms() -> None:
    artifacts = compile_pipeline(DEMO / "iot-telemetry", DEMO / "manifest.yaml")
    files = _plugin("metricflow").generate_model(artifacts)
    assert sorted(files) == ["metricflow/iot_telemetry.yml", "models/floe_semantic/iot_telemetry.yml",
                             "models/floe_semantic/metricflow_time_spine.sql"]
    assert "model: ref('mart_equipment_health')" in files["models/floe_semantic/iot_telemetry.yml"]
    assert "schema_name: iot_telemetry" in files["metricflow/iot_telemetry.yml"]


def test_metricflow_health_reports_the_library_version() -> None:
    status = _plugin("metricflow").health_check(timeout=2)
    assert status.state is HealthState.HEALTHY, status.message
    assert "metricflow 0.213.0" in status.message


def test_compiled_artifacts_carry_the_section(tmp_path: Path) -> None:
    compile_pipeline(DEMO / "financial-risk", DEMO / "manifest.embedded.yaml", output_dir=tmp_path)
    artifacts = CompiledArtifacts.from_file(tmp_path / "compiled_artifacts.json")
    assert artifacts.semantic is not None
    assert [m.name for m in artifacts.semantic.models] == ["portfolios", "positions"]
    assert artifacts.semantic.metric("var_pct_of_value") is not None


def test_compile_refuses_a_column_the_mart_does_not_have(demo_copy: Path) -> None:
    spec = demo_copy / "customer-360" / "floe.yaml"
    spec.write_text(spec.read_text().replace("column: total_spend", "column: total_spent"))
    with pytest.raises(ConfigError) as err:
        compile_pipeline(demo_copy / "customer-360", demo_copy / "manifest.embedded.yaml")
    text = str(err.value)
    assert str(spec) in text and "semantic.models[0].measures[1].column" in text and "total_spend" in text


def test_semantic_cli_and_package_import_nothing_heavy() -> None:
    code = (
        "import sys, floe.semantic, floe.cli.semantic, floe.plugins.semantic.metricflow, floe.plugins.semantic.cube\n"
        "heavy = [m for m in ('duckdb', 'pyarrow', 'pyiceberg', 'metricflow', 'dbt') if m in sys.modules]\n"
        "print(heavy)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[]"
