"""The runtime runs dbt through the manifest's dbt plugin, rebuilt from the artifacts: a third-party
dbt plugin parses the project and names the executable the Dagster step runs, not floe's builtin."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import ClassVar

import pytest
import yaml

from floe.compiler import compile_pipeline
from floe.contract import ARTIFACTS_FILE
from floe.errors import PluginError, RuntimeFailure
from floe.plugins import PluginType, get_registry
from floe.plugins.dbt.core import DbtCorePlugin
from floe.plugins.interfaces import DbtPlugin, DbtResult
from floe.runtime.context import RunContext
from floe.runtime.dbt import ensure_dbt_manifest

pytestmark = pytest.mark.requirement("FLOE-PLUGINS")


class RecordingDbt(DbtPlugin):
    name: ClassVar[str] = "recording"
    calls: ClassVar[list[list[str]]] = []
    succeed: ClassVar[bool] = True

    def invoke(self, args: Sequence[str], *, project_dir: Path, profiles_dir: Path,
               env: Mapping[str, str] | None = None) -> DbtResult:
        type(self).calls.append(list(args))
        if not self.succeed:
            return DbtResult(success=False, command=" ".join(args), message="Compilation Error in model x")
        target = Path((env or {})["DBT_TARGET_PATH"])
        target.mkdir(parents=True, exist_ok=True)
        (target / "manifest.json").write_text(json.dumps({"nodes": {}}))
        return DbtResult(success=True, command=" ".join(args))

    def executable(self) -> str:
        return "/opt/recording/bin/dbt"


@pytest.fixture
def ctx(demo_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RunContext:
    for key in ("FLOE_DUCKDB_PATH", "DBT_TARGET_PATH", "DBT_LOG_PATH"):  # prepare_dbt_env exports them
        monkeypatch.setenv(key, "")
    RecordingDbt.calls = []
    RecordingDbt.succeed = True
    get_registry().register(PluginType.DBT, RecordingDbt)
    manifest = demo_copy / "manifest.embedded.yaml"
    m = yaml.safe_load(manifest.read_text())
    m["plugins"]["dbt"] = {"type": "recording"}
    manifest.write_text(yaml.safe_dump(m, sort_keys=False))
    compile_pipeline(demo_copy / "financial-risk", manifest, output_dir=tmp_path / "out")
    return RunContext.load(tmp_path / "out" / ARTIFACTS_FILE)


def test_the_artifacts_dbt_plugin_parses_the_project_and_names_the_executable(ctx: RunContext) -> None:
    plugin = ctx.dbt_plugin()
    assert isinstance(plugin, RecordingDbt) and plugin.executable() == "/opt/recording/bin/dbt"
    manifest = ensure_dbt_manifest(ctx)
    assert manifest.exists() and RecordingDbt.calls == [["parse", *ctx.dbt_vars_arg()]]
    ensure_dbt_manifest(ctx)  # fresh: not parsed again
    assert len(RecordingDbt.calls) == 1


def test_a_failed_parse_names_the_product_and_says_what_dbt_said(ctx: RunContext) -> None:
    RecordingDbt.succeed = False
    with pytest.raises(RuntimeFailure) as err:
        ensure_dbt_manifest(ctx)
    assert "dbt parse failed for financial-risk" in err.value.message
    assert "Compilation Error in model x" in err.value.message


def test_no_dbt_on_path_is_a_plugin_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")

    class OnPath(RecordingDbt):
        executable = DbtPlugin.executable

    with pytest.raises(PluginError) as err:
        OnPath().executable()
    assert err.value.plugin == "recording" and "no dbt executable on PATH" in err.value.message
    assert DbtCorePlugin().executable().endswith("dbt")  # the builtin finds the one beside floe's interpreter
