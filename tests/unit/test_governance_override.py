"""A product asking looser governance than its platform gets the manifest's, and compile says so,
naming both values (FLOE-COMPILE-RUNS)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from floe.compiler import compile_pipeline

pytestmark = pytest.mark.requirement("FLOE-COMPILE-RUNS")


def _compile(demo_copy: Path, governance: dict[str, Any]) -> Any:
    product = demo_copy / "customer-360"
    spec = yaml.safe_load((product / "floe.yaml").read_text())
    spec["governance"] = governance
    (product / "floe.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return compile_pipeline(product, demo_copy / "manifest.embedded.yaml")


def test_looser_asks_are_warnings_naming_both_values(demo_copy: Path) -> None:
    a = _compile(demo_copy, {"policy_enforcement_level": "off", "minimum_test_coverage": 10,
                             "require_descriptions": False})
    found = {v.model: v for v in a.enforcement_result.violations if v.rule == "governance_override"}
    assert set(found) == {"governance.policy_enforcement_level", "governance.minimum_test_coverage",
                          "governance.require_descriptions"}
    level = found["governance.policy_enforcement_level"]
    assert level.severity == "warning" and level.file == "floe.yaml"
    assert "off" in level.message and "manifest's warn applies" in level.message
    assert "10" in found["governance.minimum_test_coverage"].message
    assert "manifest's 50 applies" in found["governance.minimum_test_coverage"].message
    # and the manifest's values are what the product gets
    assert a.governance.policy_enforcement_level.value == "warn" and a.governance.minimum_test_coverage == 50


def test_stricter_or_equal_asks_say_nothing(demo_copy: Path) -> None:
    a = _compile(demo_copy, {"policy_enforcement_level": "warn", "minimum_test_coverage": 80,
                             "require_descriptions": True})
    assert not [v for v in a.enforcement_result.violations if v.rule == "governance_override"]
    assert a.governance.minimum_test_coverage == 80


def test_schema_changes_may_be_asked_stricter_only(demo_copy: Path) -> None:
    a = _compile(demo_copy, {"schema_changes": {"dropped_columns": "block", "type_changes": "warn"}})
    found = {v.model: v for v in a.enforcement_result.violations if v.rule == "governance_override"}
    assert set(found) == {"governance.schema_changes.type_changes"}, found
    assert "warn" in found["governance.schema_changes.type_changes"].message
    assert "manifest's block applies" in found["governance.schema_changes.type_changes"].message
    # stricter is taken, looser is not
    assert a.governance.schema_changes.dropped_columns == "block"
    assert a.governance.schema_changes.type_changes == "block"


def test_a_product_setting_one_schema_change_key_leaves_the_other_as_the_manifest_says(demo_copy: Path) -> None:
    manifest = demo_copy / "manifest.embedded.yaml"
    doc = yaml.safe_load(manifest.read_text())
    doc.setdefault("governance", {})["schema_changes"] = {"dropped_columns": "block", "type_changes": "allow"}
    manifest.write_text(yaml.safe_dump(doc, sort_keys=False))
    a = _compile(demo_copy, {"schema_changes": {"type_changes": "warn"}})
    assert not [v for v in a.enforcement_result.violations if v.rule == "governance_override"]
    assert (a.governance.schema_changes.dropped_columns, a.governance.schema_changes.type_changes) == ("block", "warn")
