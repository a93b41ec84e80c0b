"""Ingestion: where ingested data lands, from the catalog's properties (no pipeline runs here)."""

from __future__ import annotations

import json

import pytest

from floe.plugins.types import PluginType

from .conftest import Sandbox
from .samples import params


@pytest.mark.parametrize("name", params(PluginType.INGESTION))
def test_destination_uses_the_catalog(name: str, sandbox: Sandbox) -> None:
    catalog = sandbox.create(PluginType.CATALOG, "sql")
    props = catalog.pyiceberg_properties(sandbox.resolver(), f"file://{sandbox.tmp}/warehouse")
    destination = sandbox.create(PluginType.INGESTION, name).destination_config(props)
    assert isinstance(destination, dict) and destination
    text = json.dumps(destination)  # stored and handed to a pipeline: plain JSON
    assert props["uri"] in text, "the destination is the product's catalog"
