"""manifest.yaml and floe.yaml: valid inputs load; bad ones say file, key, value, allowed and fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from tests.conftest import DEMO, PRODUCTS

from floe.config import FloeSpec, PlatformManifest, load_model
from floe.config.governance import EnforcementLevel
from floe.errors import ConfigError, ConfigErrors


def _write(tmp_path: Path, name: str, data: object) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return path


def _manifest(**overrides: object) -> dict[str, object]:
    data = yaml.safe_load((DEMO / "manifest.embedded.yaml").read_text())
    data.update(overrides)
    return data


@pytest.mark.parametrize("name", ["manifest.yaml", "manifest.embedded.yaml"])
def test_demo_manifests_load(name: str) -> None:
    m = load_model(DEMO / name, PlatformManifest)
    assert m.plugins.compute.type == "duckdb"
    assert m.governance.policy_enforcement_level is EnforcementLevel.WARN


@pytest.mark.parametrize("product", PRODUCTS)
def test_demo_specs_load(product: str) -> None:
    spec = load_model(DEMO / product / "floe.yaml", FloeSpec, forbid_infra_keys=True)
    assert spec.metadata.name == product
    assert {t.tier for t in spec.transforms} == {"bronze", "silver", "gold"}


def test_models_are_frozen() -> None:
    m = load_model(DEMO / "manifest.yaml", PlatformManifest)
    with pytest.raises(Exception, match="frozen"):
        m.metadata.name = "other"  # type: ignore[misc]


def test_unknown_key_names_file_key_and_fix(tmp_path: Path) -> None:
    data = _manifest()
    data["governance"]["quality_gate"] = {}  # type: ignore[index]
    path = _write(tmp_path, "manifest.yaml", data)
    with pytest.raises(ConfigError) as err:
        load_model(path, PlatformManifest)
    text = str(err.value)
    assert str(path) in text
    assert "governance.quality_gate" in text
    assert "unknown key" in text
    assert "floe schema" in text


def test_unknown_plugin_type_lists_allowed(tmp_path: Path) -> None:
    data = _manifest()
    data["plugins"]["catalog"] = {"type": "hive"}  # type: ignore[index]
    with pytest.raises(ConfigError) as err:
        load_model(_write(tmp_path, "m.yaml", data), PlatformManifest)
    text = str(err.value)
    assert "plugins.catalog.type" in text
    assert "'hive'" in text
    assert "polaris" in text and "sql" in text
    assert "floe plugins list" in text


def test_plugin_config_error_path_has_no_union_tag(tmp_path: Path) -> None:
    data = _manifest()
    data["plugins"]["compute"] = {"type": "duckdb", "threads": "many"}  # type: ignore[index]
    with pytest.raises(ConfigError) as err:
        load_model(_write(tmp_path, "m.yaml", data), PlatformManifest)
    assert "plugins.compute.threads" in str(err.value)
    assert "'many'" in str(err.value)


def test_bad_enforcement_level(tmp_path: Path) -> None:
    data = _manifest()
    data["governance"]["policy_enforcement_level"] = "loud"  # type: ignore[index]
    with pytest.raises(ConfigError) as err:
        load_model(_write(tmp_path, "m.yaml", data), PlatformManifest)
    text = str(err.value)
    assert "governance.policy_enforcement_level" in text and "'loud'" in text
    assert "'off', 'warn' or 'strict'" in text


def test_several_problems_reported_together(tmp_path: Path) -> None:
    data = _manifest()
    del data["metadata"]["owner"]  # type: ignore[attr-defined]
    data["extra"] = 1
    with pytest.raises(ConfigErrors) as err:
        load_model(_write(tmp_path, "m.yaml", data), PlatformManifest)
    text = str(err.value)
    assert "2 problem(s)" in text and "metadata.owner" in text and "extra" in text


def test_invalid_yaml_gives_position(tmp_path: Path) -> None:
    path = _write(tmp_path, "floe.yaml", "metadata:\n  name: [oops\n")
    with pytest.raises(ConfigError) as err:
        load_model(path, FloeSpec)
    assert "invalid YAML at line" in str(err.value)


def test_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_model(tmp_path / "nope.yaml", FloeSpec)


def test_infrastructure_keys_rejected_in_floe_yaml(tmp_path: Path) -> None:
    spec = yaml.safe_load((DEMO / "customer-360" / "floe.yaml").read_text())
    spec["transforms"][0]["password"] = "x"
    with pytest.raises(ConfigError) as err:
        load_model(_write(tmp_path, "floe.yaml", spec), FloeSpec, forbid_infra_keys=True)
    assert "transforms[0].password" in str(err.value)
    assert "manifest.yaml" in str(err.value)


def test_secret_reference_string_form(tmp_path: Path) -> None:
    m = load_model(DEMO / "manifest.yaml", PlatformManifest)
    assert m.plugins.catalog.client_secret.source == "env"  # type: ignore[union-attr]
    data = yaml.safe_load((DEMO / "manifest.yaml").read_text())
    data["plugins"]["catalog"]["client_secret"] = "plain-value"  # pragma: allowlist secret
    with pytest.raises(ConfigError, match="env:NAME"):
        load_model(_write(tmp_path, "m.yaml", data), PlatformManifest)


def test_bad_cron_and_timezone(tmp_path: Path) -> None:
    spec = yaml.safe_load((DEMO / "customer-360" / "floe.yaml").read_text())
    spec["schedule"] = {"cron": "* * *", "timezone": "Mars/Base"}
    with pytest.raises(ConfigErrors) as err:
        load_model(_write(tmp_path, "floe.yaml", spec), FloeSpec)
    assert "5 fields" in str(err.value) and "IANA" in str(err.value)


def test_unapproved_default_compute(tmp_path: Path) -> None:
    data = _manifest(approved={"compute": ["spark"]})
    with pytest.raises(ConfigError, match=r"not in approved\.compute"):
        load_model(_write(tmp_path, "m.yaml", data), PlatformManifest)


def test_json_schema_export() -> None:
    from floe.config.schema import json_schema

    schema = json_schema("manifest")
    assert schema["$id"].endswith("manifest.json")
    assert "plugins" in schema["properties"]
    assert json_schema("floe")["additionalProperties"] is False
    with pytest.raises(ConfigError, match="unknown schema"):
        json_schema("nope")
