"""Lineage backends: the transport is one openlineage-python builds, and compiled output stays relocatable."""

from __future__ import annotations

import json

import pytest
from openlineage.client.transport import get_default_factory

from floe.plugins.types import PluginType

from .conftest import Sandbox
from .samples import params


@pytest.mark.parametrize("name", params(PluginType.LINEAGE_BACKEND))
def test_transport_is_built_by_openlineage(name: str, sandbox: Sandbox) -> None:
    plugin = sandbox.create(PluginType.LINEAGE_BACKEND, name)
    transport = plugin.transport_config()
    assert isinstance(transport.get("type"), str)
    get_default_factory().create(transport)  # an unknown type or a bad setting raises


@pytest.mark.parametrize("name", params(PluginType.LINEAGE_BACKEND))
def test_compiled_transport_moves_with_its_folder(name: str, sandbox: Sandbox) -> None:
    plugin = sandbox.create(PluginType.LINEAGE_BACKEND, name)
    project = sandbox.tmp / "project"
    stored = json.loads(json.dumps(plugin.compiled_transport(project, project / "target" / "floe")))
    assert str(sandbox.tmp) not in json.dumps(stored), "compiled output must not hold this machine's paths"
    # the compiled folder, moved elsewhere, resolves relative to its new place
    moved = sandbox.tmp / "elsewhere" / "project"
    run = plugin.run_transport(stored, moved / "target" / "floe")
    assert run["type"] == stored["type"]
    get_default_factory().create(run)
    for value in run.values():
        if isinstance(value, str) and value.startswith("/"):
            assert value.startswith(str(moved)), f"{value} is outside the moved project"
