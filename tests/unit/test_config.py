"""manifest.yaml and floe.yaml: valid inputs load; bad ones say file, key, value, allowed and fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from tests.conftest import DEMO, PRODUCTS

from floe.config import FloeSpec, load_model
from floe.contract import EnforcementLevel
from floe.errors import ConfigError, ConfigErrors
from floe.plugins.registry import load_manifest


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
    m = load_manifest(DEMO / name)
    assert m.plugins.compute.type == "duckdb"
    assert m.governance.policy_enforcement_level is EnforcementLevel.WARN


@pytest.mark.parametrize("product", PRODUCTS)
def test_demo_specs_load(product: str) -> None:
    spec = load_model(DEMO / product / "floe.yaml", FloeSpec, forbid_infra_keys=True)
    assert spec.metadata.name == product
    assert {t.tier for t in spec.transforms} == {"bronze", "silver", "gold"}


def test_models_are_frozen() -> None:
    m = load_manifest(DEMO / "manifest.yaml")
    with pytest.raises(Exception, match="frozen"):
        m.metadata.name = "other"  # type: ignore[misc]


def test_unknown_key_names_file_key_and_fix(tmp_path: Path) -> None:
    data = _manifest()
    data["governance"]["quality_gate"] = {}  # type: ignore[index]
    path = _write(tmp_path, "manifest.yaml", data)
    with pytest.raises(ConfigError) as err:
        load_manifest(path)
    text = str(err.value)
    assert str(path) in text
    assert "governance.quality_gate" in text
    assert "unknown key" in text
    assert "floe schema" in text


def test_unknown_plugin_type_lists_allowed(tmp_path: Path) -> None:
    data = _manifest()
    data["plugins"]["catalog"] = {"type": "hive"}  # type: ignore[index]
    with pytest.raises(ConfigError) as err:
        load_manifest(_write(tmp_path, "m.yaml", data))
    text = str(err.value)
    assert "plugins.catalog.type" in text
    assert "'hive'" in text
    assert "polaris" in text and "sql" in text
    assert "floe plugins list" in text


def test_plugin_config_error_path_has_no_union_tag(tmp_path: Path) -> None:
    data = _manifest()
    data["plugins"]["compute"] = {"type": "duckdb", "threads": "many"}  # type: ignore[index]
    with pytest.raises(ConfigError) as err:
        load_manifest(_write(tmp_path, "m.yaml", data))
    assert "plugins.compute.threads" in str(err.value)
    assert "'many'" in str(err.value)


def test_bad_enforcement_level(tmp_path: Path) -> None:
    data = _manifest()
    data["governance"]["policy_enforcement_level"] = "loud"  # type: ignore[index]
    with pytest.raises(ConfigError) as err:
        load_manifest(_write(tmp_path, "m.yaml", data))
    text = str(err.value)
    assert "governance.policy_enforcement_level" in text and "'loud'" in text
    assert "'off', 'warn' or 'strict'" in text


def test_several_problems_reported_together(tmp_path: Path) -> None:
    data = _manifest()
    del data["metadata"]["owner"]  # type: ignore[attr-defined]
    data["extra"] = 1
    with pytest.raises(ConfigErrors) as err:
        load_manifest(_write(tmp_path, "m.yaml", data))
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
    m = load_manifest(DEMO / "manifest.yaml")
    assert m.plugins.catalog.client_secret.source == "env"  # type: ignore[union-attr]
    data = yaml.safe_load((DEMO / "manifest.yaml").read_text())
    data["plugins"]["catalog"]["client_secret"] = "plain-value"  # pragma: allowlist secret
    with pytest.raises(ConfigError, match="env:NAME"):
        load_manifest(_write(tmp_path, "m.yaml", data))


def test_bad_cron_and_timezone(tmp_path: Path) -> None:
    spec = yaml.safe_load((DEMO / "customer-360" / "floe.yaml").read_text())
    spec["schedule"] = {"cron": "* * *", "timezone": "Mars/Base"}
    with pytest.raises(ConfigErrors) as err:
        load_model(_write(tmp_path, "floe.yaml", spec), FloeSpec)
    assert "5 fields" in str(err.value) and "IANA" in str(err.value)


def test_unapproved_default_compute(tmp_path: Path) -> None:
    data = _manifest(approved={"compute": ["spark"]})
    with pytest.raises(ConfigError, match=r"not in approved\.compute"):
        load_manifest(_write(tmp_path, "m.yaml", data))


def test_json_schema_export() -> None:
    from floe.plugins.schema import json_schema

    schema = json_schema("manifest")
    assert schema["$id"].endswith("manifest.json")
    assert "plugins" in schema["properties"]
    assert json_schema("floe")["additionalProperties"] is False
    with pytest.raises(ConfigError, match="unknown schema"):
        json_schema("nope")


# -- plugins own their configuration ------------------------------------------------------------------
def _glue_registered() -> None:
    from typing import ClassVar, Literal

    from floe.config.plugins import PluginConfig
    from floe.plugins import PluginType, get_registry
    from floe.plugins.catalog.sql import SqlCatalogPlugin

    class GlueConfig(PluginConfig):
        type: Literal["glue"]
        region: str
        catalog_id: int | None = None

    class GluePlugin(SqlCatalogPlugin):  # behaviour irrelevant here: only its config is validated
        name: ClassVar[str] = "glue"
        config_model = GlueConfig

    get_registry().register(PluginType.CATALOG, GluePlugin)


def test_a_plugin_outside_floe_is_configured_like_a_builtin(tmp_path: Path) -> None:
    _glue_registered()
    data = _manifest()
    data["plugins"]["catalog"] = {"type": "glue", "region": "eu-west-1"}  # type: ignore[index]
    manifest = load_manifest(_write(tmp_path, "m.yaml", data))
    assert type(manifest.plugins.catalog).__name__ == "GlueConfig"
    assert manifest.plugins.catalog.model_dump() == {"type": "glue", "region": "eu-west-1", "catalog_id": None}


def test_a_plugins_own_model_names_the_key_path(tmp_path: Path) -> None:
    _glue_registered()
    data = _manifest()
    data["plugins"]["catalog"] = {"type": "glue", "region": "eu-west-1", "catalog_id": "x", "regoin": 1}  # type: ignore[index]
    with pytest.raises(ConfigError) as err:
        load_manifest(_write(tmp_path, "m.yaml", data))
    text = str(err.value)
    assert "plugins.catalog.catalog_id" in text and "'x'" in text
    assert "plugins.catalog.regoin" in text and "unknown key" in text


def test_unknown_type_lists_installed_plugins_including_third_party(tmp_path: Path) -> None:
    _glue_registered()
    data = _manifest()
    data["plugins"]["catalog"] = {"type": "hive"}  # type: ignore[index]
    with pytest.raises(ConfigError) as err:
        load_manifest(_write(tmp_path, "m.yaml", data))
    assert "'glue'" in str(err.value) and "'sql'" in str(err.value)


def test_manifest_schema_lists_every_installed_plugins_config() -> None:
    from floe.plugins.schema import json_schema

    _glue_registered()
    catalog = json_schema("manifest")["$defs"]["PluginsConfig"]["properties"]["catalog"]
    by_type = {c["properties"]["type"]["const"]: c for c in catalog["oneOf"]}
    assert {"glue", "sql", "polaris", "iceberg-rest"} <= set(by_type)
    assert by_type["glue"]["required"] == ["type", "region"]
    assert by_type["glue"]["additionalProperties"] is False


def test_manifest_validated_without_the_registry_says_how() -> None:
    from floe.config.manifest import PlatformManifest

    data = _manifest()
    with pytest.raises(ValueError, match=r"floe\.plugins\.load_manifest"):
        PlatformManifest.model_validate(data)
