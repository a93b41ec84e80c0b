"""floe.yaml `quality.checks` and the quality plugin's own check-file validation at compile: what compile
accepts, and what it says when it does not (file, key, value, allowed values, next step)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from floe.compiler import compile_pipeline
from floe.errors import ConfigError

pytestmark = pytest.mark.requirement("FLOE-QUALITY")

CHECKS = "quality/mart_customer_360.yml"


def _product(demo_copy: Path, checks: list[dict[str, Any]] | None = None, *, contract: Any = None,
             quality: dict[str, Any] | None = None) -> Path:
    product = demo_copy / "customer-360"
    if checks is not None:
        spec = yaml.safe_load((product / "floe.yaml").read_text())
        spec["quality"] = {"checks": checks}
        (product / "floe.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    if contract is not None:
        (product / CHECKS).write_text(yaml.safe_dump(contract, sort_keys=False))
    manifest = demo_copy / "manifest.embedded.yaml"
    m = yaml.safe_load(manifest.read_text())
    if quality is None:
        m["plugins"].pop("quality", None)
    else:
        m["plugins"]["quality"] = quality
    manifest.write_text(yaml.safe_dump(m, sort_keys=False))
    return product


def _error(product: Path, demo_copy: Path) -> ConfigError:
    with pytest.raises(ConfigError) as err:
        compile_pipeline(product, demo_copy / "manifest.embedded.yaml")
    return err.value


SODA = {"type": "soda"}


def test_demo_checks_compile_into_the_artifacts(demo_copy: Path, tmp_path: Path) -> None:
    a = compile_pipeline(_product(demo_copy, quality=SODA), demo_copy / "manifest.embedded.yaml", output_dir=tmp_path)
    [check] = a.quality_checks
    assert (check.model, check.table, check.file) == ("mart_customer_360", "customer_360.mart_customer_360", CHECKS)
    assert [c["name"] for c in check.spec["columns"]][:1] == ["customer_id"] and "dataset" not in check.spec
    assert a.plugins.quality is not None and a.plugins.quality.type == "soda"


def test_checks_need_a_quality_plugin(demo_copy: Path) -> None:
    e = _error(_product(demo_copy, quality=None), demo_copy)
    assert e.file is not None and e.file.name == "manifest.embedded.yaml" and e.key == "plugins.quality"
    assert "soda" in str(e.allowed) and "dbt-tests" in str(e.allowed)


def test_a_plugin_that_reads_no_check_files_says_so(demo_copy: Path) -> None:
    e = _error(_product(demo_copy, quality={"type": "dbt-tests"}), demo_copy)
    assert e.file is not None and e.file.name == "floe.yaml" and e.key == "quality.checks[0].file"
    assert "dbt-tests" in e.message and "no check files" in e.message and e.value == CHECKS


def test_the_model_must_exist(demo_copy: Path) -> None:
    e = _error(_product(demo_copy, [{"model": "mart_nope", "file": CHECKS}], quality=SODA), demo_copy)
    assert e.key == "quality.checks[0].model" and e.value == "mart_nope"
    assert "mart_customer_360" in str(e.allowed)


@pytest.mark.parametrize("path", ["quality/missing.yml", "../manifest.yaml", "/etc/passwd"])
def test_the_file_must_be_inside_the_product(demo_copy: Path, path: str) -> None:
    e = _error(_product(demo_copy, [{"model": "mart_customer_360", "file": path}], quality=SODA), demo_copy)
    assert e.file is not None and e.file.name == "floe.yaml" and e.key == "quality.checks[0].file"


def test_one_check_file_per_model(demo_copy: Path) -> None:
    twice = [{"model": "mart_customer_360", "file": CHECKS}] * 2
    e = _error(_product(demo_copy, twice, quality=SODA), demo_copy)
    assert "quality.checks" in str(e) and "two check files" in str(e)


@pytest.mark.parametrize(("contract", "key", "words"), [
    ({"dataset": "floe/x/y", "columns": []}, "dataset", "remove `dataset`"),
    ({"columns": [{"name": "lifetime"}]}, "columns[0].name", "'lifetime' is not a column"),
    ({"columns": [{"name": "customer_id", "checks": [{"missing": {"bogus": 1}}]}]}, "columns[0].checks[0]",
     "not a Soda data contract"),
    ({"colums": []}, "colums", "not a Soda data contract"),
    ({"checks": []}, "columns", "not a Soda data contract"),
])
def test_soda_validates_the_contract(demo_copy: Path, contract: dict[str, Any], key: str, words: str) -> None:
    e = _error(_product(demo_copy, contract=contract, quality=SODA), demo_copy)
    assert e.file is not None and e.file.name == "mart_customer_360.yml", str(e)
    assert e.key is not None and e.key.startswith(key) and words in e.message, str(e)


def test_allow_empty_names_a_seed_or_model(demo_copy: Path) -> None:
    product = demo_copy / "customer-360"
    spec = yaml.safe_load((product / "floe.yaml").read_text())
    spec["quality"]["allow_empty"] = ["raw_customers", "mart_nope"]
    (product / "floe.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    e = _error(product, demo_copy)
    assert e.key == "quality.allow_empty[1]" and e.value == "mart_nope" and "raw_customers" in str(e.allowed)
    spec["quality"]["allow_empty"] = ["raw_customers", "stg_crm_customers"]
    (product / "floe.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    a = compile_pipeline(product, demo_copy / "manifest.embedded.yaml")
    assert a.quality_allow_empty == ["raw_customers", "stg_crm_customers"]
