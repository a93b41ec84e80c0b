"""The section against the dbt project: models and documented columns must exist (compile-time)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.conftest import DEMO, PRODUCTS
from tests.unit.semantic.conftest import demo_semantic

from floe.config.dbt_project import read_dbt_project
from floe.contract.semantic import SemanticSpec
from floe.errors import ConfigError, ConfigErrors
from floe.semantic import validate_semantic


def _spec(product: str, edit: Any) -> SemanticSpec:
    data = demo_semantic(product).model_dump(exclude_none=True)
    edit(data)
    return SemanticSpec.model_validate(data)


@pytest.mark.parametrize("product", PRODUCTS)
def test_demo_sections_match_their_dbt_projects(product: str) -> None:
    validate_semantic(demo_semantic(product), read_dbt_project(DEMO / product), file=DEMO / product / "floe.yaml")


def test_unknown_model_lists_the_products_models() -> None:
    spec = _spec("customer-360", lambda d: d["models"][0].update(model="mart_customers"))
    with pytest.raises(ConfigError) as err:
        validate_semantic(spec, read_dbt_project(DEMO / "customer-360"), file="floe.yaml")
    text = str(err.value)
    assert "floe.yaml: semantic.models[0].model" in text
    assert "'mart_customers'" in text and "mart_customer_360" in text and "stg_transactions" in text


def test_unknown_explicit_column_named_at_column_key() -> None:
    spec = _spec("customer-360", lambda d: d["models"][0]["measures"][1].update(column="total_spent"))
    with pytest.raises(ConfigError) as err:
        validate_semantic(spec, read_dbt_project(DEMO / "customer-360"), file="floe.yaml")
    text = str(err.value)
    assert "semantic.models[0].measures[1].column" in text
    assert "'total_spent' is not a column of mart_customer_360" in text
    assert "total_spend" in text  # the allowed columns
    assert "models/marts/schema.yml" in text


def test_implicit_column_named_at_name_key() -> None:
    spec = _spec("iot-telemetry", lambda d: d["models"][0]["dimensions"].append({"name": "site"}))
    with pytest.raises(ConfigError) as err:
        validate_semantic(spec, read_dbt_project(DEMO / "iot-telemetry"), file="floe.yaml")
    assert "semantic.models[0].dimensions[3].name" in str(err.value)
    assert "set `column:`" in str(err.value)


def test_all_problems_reported_together() -> None:
    def edit(d: dict[str, Any]) -> None:
        d["models"][0]["entities"][0]["column"] = "pf_id"
        d["models"][1]["measures"][1]["column"] = "qty"

    spec = _spec("financial-risk", edit)
    with pytest.raises(ConfigErrors) as err:
        validate_semantic(spec, read_dbt_project(DEMO / "financial-risk"), file="floe.yaml")
    keys = [e.key for e in err.value.errors]
    assert keys == ["semantic.models[0].entities[0].column", "semantic.models[1].measures[1].column"]


def test_undocumented_model_is_refused_with_the_fix(tmp_path: Any) -> None:
    import shutil

    project = tmp_path / "c360"
    shutil.copytree(DEMO / "customer-360", project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    schema = project / "models" / "marts" / "schema.yml"
    schema.write_text(schema.read_text().split("    columns:")[0])
    with pytest.raises(ConfigError) as err:
        validate_semantic(demo_semantic("customer-360"), read_dbt_project(project), file="floe.yaml")
    assert "documents no columns" in str(err.value) and "schema.yml" in str(err.value)
