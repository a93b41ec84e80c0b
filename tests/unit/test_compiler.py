"""The compiler: governed, deterministic artifacts; strict mode blocks; nothing half-written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from tests.conftest import DEMO, PRODUCTS

from floe import CompiledArtifacts, compile_pipeline
from floe.compiler.stages import CompilationStage
from floe.errors import ConfigError, PolicyEnforcementError

GOLDEN = Path(__file__).parent / "golden"


def _set_governance(demo: Path, manifest: str = "manifest.yaml", **gov: object) -> Path:
    path = demo / manifest
    data = yaml.safe_load(path.read_text())
    for key, value in gov.items():
        if key in {"require_descriptions", "minimum_test_coverage", "block_on_failure"}:
            data["governance"]["quality_gates"][key] = value
        else:
            data["governance"][key] = value
    path.write_text(yaml.safe_dump(data))
    return path


def test_stage_names() -> None:
    assert [s.name for s in CompilationStage] == ["LOAD", "VALIDATE", "RESOLVE", "ENFORCE", "COMPILE", "GENERATE"]


@pytest.mark.requirement("15-FR-012")
@pytest.mark.requirement("15-FR-011")
@pytest.mark.parametrize("product", PRODUCTS)
def test_demo_compiles_governed(product: str) -> None:
    a = compile_pipeline(DEMO / product)
    assert a.metadata.product_name == product
    assert a.governance.data_retention_days == 30 and a.governance.default_ttl_hours == 24
    er = a.enforcement_result
    assert er.enforcement_level.value == "warn"
    assert er.models_validated == len(a.transforms.models) == (7 if product == "customer-360" else 6)
    assert er.passed and er.error_count == 0, er.violations
    assert a.identity.namespace == product.replace("-", "_")
    assert a.identity.raw_namespace == product.replace("-", "_") + "_raw"
    assert a.observability.service_name == product and a.observability.lineage_namespace == product
    tiers = [m.tier for m in a.transforms.models]
    # dependency order: no model before something it depends on
    seen: set[str] = set()
    for m in a.transforms.models:
        assert set(m.depends_on) <= seen, m.name
        seen.add(m.name)
    assert tiers.count("gold") == 1


def test_compile_is_byte_identical(tmp_path: Path) -> None:
    compile_pipeline(DEMO / "customer-360", output_dir=tmp_path / "a")
    compile_pipeline(DEMO / "customer-360", output_dir=tmp_path / "b")
    for name in ("compiled_artifacts.json", "profiles.yml", "definitions.py"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_recompile_rewrites_only_what_changed_and_keeps_run_state(demo_copy: Path, tmp_path: Path) -> None:
    """An unchanged compile touches nothing (dbt's parse of it stays current); a changed one swaps the
    compiler's files and keeps what runs left there (dbt target, logs, the DuckDB file)."""
    import os

    out = tmp_path / "out"
    compile_pipeline(demo_copy / "customer-360", output_dir=out)
    artifacts = out / "compiled_artifacts.json"
    os.utime(artifacts, (1_000_000, 1_000_000))
    (out / "dbt").mkdir()
    (out / "dbt" / "manifest.json").write_text("{}")
    (out / "customer_360.duckdb").write_bytes(b"db")
    compile_pipeline(demo_copy / "customer-360", output_dir=out)
    assert artifacts.stat().st_mtime == 1_000_000  # not rewritten
    model = demo_copy / "customer-360" / "models" / "marts" / "mart_customer_360.sql"
    model.write_text(model.read_text() + "\n-- changed\n")
    compile_pipeline(demo_copy / "customer-360", output_dir=out)
    assert artifacts.stat().st_mtime > 1_000_000
    assert (out / "dbt" / "manifest.json").read_text() == "{}" and (out / "customer_360.duckdb").read_bytes() == b"db"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo", "out"]  # no temp or old folder left


@pytest.mark.parametrize("product", PRODUCTS)
@pytest.mark.parametrize("manifest", ["manifest.yaml", "manifest.embedded.yaml"])
def test_golden_outputs(product: str, manifest: str, tmp_path: Path, update_golden: bool) -> None:
    compile_pipeline(DEMO / product, DEMO / manifest, output_dir=tmp_path)
    golden = GOLDEN / manifest.removesuffix(".yaml") / product
    for name in ("compiled_artifacts.json", "profiles.yml", "definitions.py"):
        produced = (tmp_path / name).read_text()
        if name == "compiled_artifacts.json":  # relative paths depend on where output lands; the rest must not
            data = json.loads(produced)
            data["paths"] = {"project_dir": "<product>", "warehouse": "<warehouse>"}
            transport = data["observability"].get("lineage_transport") or {}
            if "log_file_path" in transport:
                transport["log_file_path"] = "<lineage file>"
            for source in data.get("ingestion", []):
                if source.get("path"):
                    source["path"] = "<source file>"
            data["metadata"]["source_hash"] = "<hash>"
            produced = json.dumps(data, indent=2) + "\n"
        if update_golden:
            golden.mkdir(parents=True, exist_ok=True)
            (golden / name).write_text(produced)
        assert produced == (golden / name).read_text(), f"{name} changed; rerun with --update-golden if intended"


def test_artifacts_round_trip(tmp_path: Path) -> None:
    a = compile_pipeline(DEMO / "iot-telemetry", output_dir=tmp_path)
    b = CompiledArtifacts.from_file(tmp_path / "compiled_artifacts.json")
    assert a == b
    assert b.sensors[0].job_name == "iot_telemetry_job"


def test_no_secret_values_in_artifacts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOE_PRODUCT_CUSTOMER_360_CLIENT_SECRET", "a-very-secret-value")
    compile_pipeline(DEMO / "customer-360", DEMO / "manifest.yaml", output_dir=tmp_path)
    text = "".join(p.read_text() for p in tmp_path.iterdir())
    assert "a-very-secret-value" not in text
    assert "env:FLOE_PRODUCT_CUSTOMER_360_CLIENT_SECRET" in text
    assert '"secret_access_key": "env:FLOE_PRODUCT_CUSTOMER_360_CLIENT_SECRET"' in text  # a reference, resolved at run


@pytest.mark.requirement("FLOE-GOV-STRICT")
def test_strict_blocks_undocumented_model_and_writes_nothing(demo_copy: Path, tmp_path: Path) -> None:
    _set_governance(demo_copy, policy_enforcement_level="strict", require_descriptions=True)
    schema = demo_copy / "customer-360" / "models" / "marts" / "schema.yml"
    doc = yaml.safe_load(schema.read_text())
    for model in doc["models"]:
        if model["name"] == "mart_customer_360":
            model["description"] = ""
    schema.write_text(yaml.safe_dump(doc))
    out = tmp_path / "out"
    with pytest.raises(PolicyEnforcementError) as err:
        compile_pipeline(demo_copy / "customer-360", output_dir=out)
    text = str(err.value)
    assert "mart_customer_360" in text and "documentation" in text and "description" in text
    assert "fix:" in text
    assert not out.exists()


def test_warn_records_violations_without_failing(demo_copy: Path) -> None:
    _set_governance(demo_copy, minimum_test_coverage=100)
    a = compile_pipeline(demo_copy / "customer-360")
    er = a.enforcement_result
    assert er.enforcement_level.value == "warn" and not er.passed
    assert er.error_count > 0 and all(v.rule == "test_coverage" for v in er.violations)


def test_off_records_level_and_skips(demo_copy: Path) -> None:
    _set_governance(demo_copy, policy_enforcement_level="off", minimum_test_coverage=100)
    er = compile_pipeline(demo_copy / "customer-360").enforcement_result
    assert er.enforcement_level.value == "off" and er.passed and er.models_validated == 0


def test_product_may_only_be_stricter(demo_copy: Path) -> None:
    spec = demo_copy / "customer-360" / "floe.yaml"
    data = yaml.safe_load(spec.read_text())
    data["governance"] = {"policy_enforcement_level": "strict"}
    spec.write_text(yaml.safe_dump(data))
    assert compile_pipeline(spec).governance.policy_enforcement_level.value == "strict"
    _set_governance(demo_copy, policy_enforcement_level="strict")
    data["governance"] = {"policy_enforcement_level": "off"}
    spec.write_text(yaml.safe_dump(data))
    assert compile_pipeline(spec).governance.policy_enforcement_level.value == "strict"


def test_naming_convention_violation(demo_copy: Path) -> None:
    data = yaml.safe_load((demo_copy / "manifest.yaml").read_text())
    data["governance"]["naming"] = {"enforcement": "strict", "pattern": "medallion"}
    data["governance"]["policy_enforcement_level"] = "strict"
    (demo_copy / "manifest.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(PolicyEnforcementError) as err:
        compile_pipeline(demo_copy / "customer-360")
    assert "stg_crm_customers" in str(err.value) and "[naming]" in str(err.value)


def test_custom_rule_require_tags(demo_copy: Path) -> None:
    data = yaml.safe_load((demo_copy / "manifest.yaml").read_text())
    data["governance"]["custom_rules"] = [
        {"type": "require_tags_for_prefix", "prefix": "mart_", "required_tags": ["pii-reviewed"]}]
    (demo_copy / "manifest.yaml").write_text(yaml.safe_dump(data))
    er = compile_pipeline(demo_copy / "customer-360").enforcement_result
    assert [v.model for v in er.violations] == ["mart_customer_360"]
    assert "pii-reviewed" in er.violations[0].message


def test_unknown_transform_lists_models(demo_copy: Path) -> None:
    spec = demo_copy / "customer-360" / "floe.yaml"
    data = yaml.safe_load(spec.read_text())
    data["transforms"][0]["name"] = "stg_crm_customer"
    spec.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as err:
        compile_pipeline(spec)
    text = str(err.value)
    assert "transforms[0].name" in text and "stg_crm_customers" in text and "floe.yaml" in text


def test_unapproved_compute_override(demo_copy: Path) -> None:
    spec = demo_copy / "customer-360" / "floe.yaml"
    data = yaml.safe_load(spec.read_text())
    data["transforms"][0]["compute"] = "snowflake"
    spec.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as err:
        compile_pipeline(spec)
    assert "not approved" in str(err.value) and "duckdb" in str(err.value)


def test_dependency_cycle_reported(demo_copy: Path) -> None:
    model = demo_copy / "customer-360" / "models" / "staging" / "stg_crm_customers.sql"
    model.write_text(model.read_text() + "\n-- {{ ref('mart_customer_360') }}\n")
    spec = demo_copy / "customer-360" / "floe.yaml"
    data = yaml.safe_load(spec.read_text())
    for t in data["transforms"]:
        t.pop("dependsOn", None)
    spec.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match="circular"):
        compile_pipeline(spec)


@pytest.mark.parametrize("manifest", ["manifest.yaml", "manifest.embedded.yaml"])
def test_dbt_builds_in_the_local_database_on_every_manifest(manifest: str) -> None:
    """Write-audit-publish: dbt never writes through the catalog (floe publishes after the audit), so
    the profile attaches nothing and carries no catalog credentials, on the platform as embedded."""
    a = compile_pipeline(DEMO / "customer-360", DEMO / manifest)
    out = a.dbt.profiles["customer_360"]["outputs"]["floe"]
    assert out["type"] == "duckdb" and "attach" not in out and "secrets" not in out
    assert a.dbt.vars["floe_materialized"] == "table"


@pytest.mark.parametrize("manifest", ["manifest.yaml", "manifest.embedded.yaml"])
def test_artifacts_written_anywhere_find_their_project_warehouse_and_lineage(tmp_path: Path, manifest: str) -> None:
    """`floe compile -o <any folder>` (the chart compiles into /app/products/<product>): the paths in the
    artifacts are measured from where they are written, so they lead back to the same places as a
    compile into the default folder."""
    from floe.runtime.context import RunContext

    default = compile_pipeline(DEMO / "customer-360", DEMO / manifest, output_dir=tmp_path / "default")
    assert default is not None
    elsewhere = tmp_path / "a" / "b" / "c" / "d" / "products" / "customer-360"
    compile_pipeline(DEMO / "customer-360", DEMO / manifest, output_dir=elsewhere)
    moved = RunContext.load(elsewhere / "compiled_artifacts.json")
    same_depth = RunContext.load(tmp_path / "default" / "compiled_artifacts.json")
    assert moved.project_dir == same_depth.project_dir == (DEMO / "customer-360").resolve()
    assert moved.warehouse_root == same_depth.warehouse_root
    assert moved.lineage_transport() == same_depth.lineage_transport()
