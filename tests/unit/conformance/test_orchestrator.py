"""Orchestrator: the generated definitions module loads the product's artifacts; the service URL is a URL;
launching on the platform needs one."""

from __future__ import annotations

import ast

import pytest
from tests.conftest import DEMO

from floe.compiler.stages import compile_pipeline
from floe.contract import CompiledArtifacts
from floe.errors import FloeError, ServiceUnavailableError
from floe.plugins.types import PluginType

from .conftest import Sandbox
from .samples import params


@pytest.mark.parametrize("name", params(PluginType.ORCHESTRATOR))
def test_definitions_module_is_python_naming_the_artifacts(name: str, sandbox: Sandbox) -> None:
    plugin = sandbox.create(PluginType.ORCHESTRATOR, name)
    source = plugin.definitions_module(sandbox.tmp / "target" / "compiled_artifacts.json")
    ast.parse(source)  # a SyntaxError fails the test
    assert "compiled_artifacts.json" in source
    assert str(sandbox.tmp) not in source, "the module finds its artifacts beside itself (relocatable)"


@pytest.mark.parametrize("name", params(PluginType.ORCHESTRATOR))
def test_service_url_is_none_or_http(name: str, sandbox: Sandbox) -> None:
    url = sandbox.create(PluginType.ORCHESTRATOR, name).service_url()
    assert url is None or url.startswith(("http://", "https://"))
    unconfigured = type(sandbox.create(PluginType.ORCHESTRATOR, name))(None)
    assert unconfigured.service_url() is None


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> CompiledArtifacts:
    return compile_pipeline(DEMO / "iot-telemetry", DEMO / "manifest.embedded.yaml",
                            output_dir=tmp_path_factory.mktemp("compiled"))


@pytest.mark.parametrize("name", params(PluginType.ORCHESTRATOR))
def test_launch_without_a_platform_service_says_so(name: str, sandbox: Sandbox, artifacts: CompiledArtifacts) -> None:
    plugin = type(sandbox.create(PluginType.ORCHESTRATOR, name))(None)  # no service configured
    assert plugin.service_url() is None
    with pytest.raises(FloeError) as err:
        plugin.launch(artifacts, changed=0.0)
    assert "in-process" in str(err.value) and err.value.hint


def test_dagster_launch_against_an_unreachable_webserver_is_a_service_error(artifacts: CompiledArtifacts) -> None:
    from floe.plugins.registry import get_registry

    plugin = get_registry().create(PluginType.ORCHESTRATOR, "dagster", {"type": "dagster", "url": "http://127.0.0.1:9"})
    with pytest.raises(ServiceUnavailableError) as err:
        plugin.launch(artifacts, changed=0.0)
    assert "127.0.0.1:9" in str(err.value) and "floe platform up" in str(err.value.hint)
