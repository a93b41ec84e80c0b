"""Governance enforcement through the real CLI: warn records, strict blocks with the policy id, the model
and the fix, off records only the level, and a product may only make policy stricter (15-FR-011)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.conftest import ROOT

pytestmark = pytest.mark.e2e


def _manifest(demo: Path, **governance: Any) -> Path:
    doc = yaml.safe_load((demo / "manifest.yaml").read_text())
    doc["governance"].update(governance)
    path = demo / "manifest.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _undocument(demo: Path, model: str = "int_customer_orders") -> None:
    schema = demo / "customer-360" / "models" / "intermediate" / "schema.yml"
    doc = yaml.safe_load(schema.read_text())
    for m in doc["models"]:
        if m["name"] == model:
            m.pop("description", None)
    schema.write_text(yaml.safe_dump(doc, sort_keys=False))


def _compile(demo: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "floe.cli.main", "compile", str(demo / "customer-360"), "-m",
                           str(demo / "manifest.yaml"), "-o", str(out)], capture_output=True, text=True, cwd=ROOT,
                          timeout=300, check=False)


def _model_count(demo: Path) -> int:
    """The models customer-360's floe.yaml declares (every one is validated)."""
    return len(yaml.safe_load((demo / "customer-360" / "floe.yaml").read_text())["transforms"])


def _result(out: Path) -> dict[str, Any]:
    return dict(json.loads((out / "compiled_artifacts.json").read_text())["enforcement_result"])


@pytest.mark.requirement("15-FR-011")
def test_warn_mode_compiles_and_reports_the_violation_with_its_fix(platform: dict[str, Any], demo_copy: Path,
                                                                   tmp_path: Path) -> None:
    _undocument(demo_copy)
    r = _compile(demo_copy, tmp_path / "out")
    assert r.returncode == 0, r.stderr
    assert "governance warn (1 errors" in r.stdout
    assert "int_customer_orders: [documentation] model has no description" in r.stdout
    assert "fix: add `description:` for model int_customer_orders" in r.stdout
    er = _result(tmp_path / "out")
    assert (er["enforcement_level"], er["passed"], er["error_count"], er["models_validated"]) == (
        "warn", False, 1, _model_count(demo_copy))


@pytest.mark.requirement("15-FR-011")
def test_strict_mode_passes_a_valid_spec(platform: dict[str, Any], demo_copy: Path, tmp_path: Path) -> None:
    _manifest(demo_copy, policy_enforcement_level="strict")
    r = _compile(demo_copy, tmp_path / "out")
    assert r.returncode == 0, r.stderr
    er = _result(tmp_path / "out")
    assert (er["enforcement_level"], er["passed"], er["models_validated"], er["error_count"]) == (
        "strict", True, _model_count(demo_copy), 0)


@pytest.mark.requirement("15-FR-011")
def test_strict_mode_blocks_an_undocumented_model_naming_policy_model_and_fix(platform: dict[str, Any],
                                                                              demo_copy: Path, tmp_path: Path) -> None:
    _manifest(demo_copy, policy_enforcement_level="strict")
    _undocument(demo_copy)
    r = _compile(demo_copy, tmp_path / "out")
    assert r.returncode != 0
    assert "documentation" in r.stderr and "int_customer_orders" in r.stderr
    assert "add `description:` for model int_customer_orders" in r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "out" / "compiled_artifacts.json").exists(), "a blocked compile must write nothing"


@pytest.mark.requirement("15-FR-011")
def test_off_mode_records_the_level_and_checks_nothing(platform: dict[str, Any], demo_copy: Path,
                                                       tmp_path: Path) -> None:
    _manifest(demo_copy, policy_enforcement_level="off")
    _undocument(demo_copy)
    r = _compile(demo_copy, tmp_path / "out")
    assert r.returncode == 0, r.stderr
    er = _result(tmp_path / "out")
    assert (er["enforcement_level"], er["passed"], er["models_validated"], er["violations"]) == ("off", True, 0, [])


@pytest.mark.requirement("FLOE-GOV-STRICTER")
def test_a_product_can_tighten_but_not_relax_platform_policy(platform: dict[str, Any], demo_copy: Path,
                                                             tmp_path: Path) -> None:
    spec_path = demo_copy / "customer-360" / "floe.yaml"
    spec = yaml.safe_load(spec_path.read_text())
    spec["governance"] = {"policy_enforcement_level": "strict"}
    spec_path.write_text(yaml.safe_dump(spec, sort_keys=False))
    assert _compile(demo_copy, tmp_path / "strict").returncode == 0
    assert _result(tmp_path / "strict")["enforcement_level"] == "strict"

    _manifest(demo_copy, policy_enforcement_level="strict")
    spec["governance"] = {"policy_enforcement_level": "off"}
    spec_path.write_text(yaml.safe_dump(spec, sort_keys=False))
    r = _compile(demo_copy, tmp_path / "relaxed")
    assert r.returncode == 0, r.stderr
    assert _result(tmp_path / "relaxed")["enforcement_level"] == "strict", "floe.yaml relaxed the platform policy"
