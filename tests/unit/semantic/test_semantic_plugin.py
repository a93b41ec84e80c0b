"""`floe semantic` asks the manifest's semantic layer plugin, never a hard-wired engine."""

from __future__ import annotations

import pytest

from floe.errors import PluginError
from floe.plugins.semantic.cube import CubeConfig, CubePlugin
from floe.plugins.semantic.query import QueryRequest


@pytest.mark.requirement("FLOE-PLUGINS")
def test_a_layer_with_its_own_service_says_where_to_ask() -> None:
    cube = CubePlugin(CubeConfig(type="cube", api_url="https://cube.example.com/cubejs-api/v1"))
    request = QueryRequest(metrics=["revenue"])
    for call in (cube.query, cube.explain):
        with pytest.raises(PluginError) as err:
            call(None, request)
        assert "cube semantic layer answers queries in its own service" in err.value.message
        assert err.value.plugin == "cube" and "plugins.semantic_layer" in (err.value.hint or "")
