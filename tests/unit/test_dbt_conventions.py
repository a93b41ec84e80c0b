"""A dbt project that would write its tables where the run does not publish them from fails compile,
naming dbt_project.yml, the key and the schema floe expects (FLOE-COMPILE-RUNS)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from floe.compiler import compile_pipeline
from floe.errors import ConfigError

pytestmark = pytest.mark.requirement("FLOE-COMPILE-RUNS")


def _error(demo_copy: Path, edit: Callable[[dict[str, Any]], None]) -> ConfigError:
    path = demo_copy / "customer-360" / "dbt_project.yml"
    doc = yaml.safe_load(path.read_text())
    edit(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    with pytest.raises(ConfigError) as err:
        compile_pipeline(demo_copy / "customer-360", demo_copy / "manifest.embedded.yaml")
    assert err.value.file is not None and err.value.file.name == "dbt_project.yml"
    return err.value


def test_seeds_without_their_schema(demo_copy: Path) -> None:
    e = _error(demo_copy, lambda d: d["seeds"]["customer_360"].pop("+schema"))
    assert e.key == "seeds.customer_360.+schema" and e.allowed == "customer_360_raw"
    assert "+schema: customer_360_raw" in str(e.hint)


def test_a_folder_writing_elsewhere(demo_copy: Path) -> None:
    e = _error(demo_copy, lambda d: d["models"]["customer_360"]["staging"].update({"+schema": "staging"}))
    assert e.key == "models.customer_360.staging.+schema" and e.value == "staging" and e.allowed == "customer_360"


def test_dbts_default_schema_names(demo_copy: Path) -> None:
    (demo_copy / "macros" / "generate_schema_name.sql").unlink()
    e = _error(demo_copy, lambda d: None)
    assert e.key == "macro-paths" and "generate_schema_name" in e.message
