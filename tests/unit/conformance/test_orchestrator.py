"""Orchestrator: the generated definitions module loads the product's artifacts; the service URL is a URL."""

from __future__ import annotations

import ast

import pytest

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
