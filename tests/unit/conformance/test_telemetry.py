"""Telemetry backends: where spans go and how (an OTLP endpoint and one of the protocols floe speaks)."""

from __future__ import annotations

import typing

import pytest

from floe.plugins.interfaces import TelemetryBackendPlugin
from floe.plugins.types import PluginType

from .conftest import Sandbox
from .samples import params

PROTOCOLS = set(typing.get_args(typing.get_type_hints(TelemetryBackendPlugin.otlp_protocol)["return"]))


def test_the_protocols_are_grpc_and_http() -> None:
    assert {"grpc", "http"} == PROTOCOLS


@pytest.mark.parametrize("name", params(PluginType.TELEMETRY_BACKEND))
def test_endpoint_and_protocol(name: str, sandbox: Sandbox) -> None:
    config = sandbox.config(PluginType.TELEMETRY_BACKEND, name)
    plugin = sandbox.create(PluginType.TELEMETRY_BACKEND, name)
    endpoint = plugin.otlp_endpoint()
    assert endpoint is None or endpoint.startswith(("http://", "https://"))
    assert plugin.otlp_protocol() in PROTOCOLS
    if "endpoint" in config:
        assert endpoint == config["endpoint"]
    if "protocol" in config:
        assert plugin.otlp_protocol() == config["protocol"]
    assert type(plugin)(None).otlp_protocol() in PROTOCOLS
