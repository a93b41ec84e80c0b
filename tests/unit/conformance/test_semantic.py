"""Semantic layers: the model files generated from a compiled product (no semantic service runs here)."""

from __future__ import annotations

from pathlib import PurePosixPath

import pytest
import yaml
from tests.conftest import DEMO

from floe.compiler.stages import compile_pipeline
from floe.contract import CompiledArtifacts
from floe.plugins.types import PluginType

from .conftest import Sandbox
from .samples import params


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> CompiledArtifacts:
    compiled = compile_pipeline(DEMO / "customer-360", DEMO / "manifest.embedded.yaml",
                                output_dir=tmp_path_factory.mktemp("compiled"))
    assert compiled.semantic is not None and compiled.semantic.metrics
    return compiled


@pytest.mark.parametrize("name", params(PluginType.SEMANTIC_LAYER))
def test_generated_model_names_every_metric(name: str, sandbox: Sandbox, artifacts: CompiledArtifacts) -> None:
    files = sandbox.create(PluginType.SEMANTIC_LAYER, name).generate_model(artifacts)
    assert files
    for path, content in files.items():
        rel = PurePosixPath(path)
        assert not rel.is_absolute() and ".." not in rel.parts, f"{path}: files are relative to the output folder"
        if rel.suffix in {".yml", ".yaml"}:
            assert [d for d in yaml.safe_load_all(content) if d], f"{path} is empty or not YAML"
    text = "\n".join(files.values())
    assert artifacts.semantic is not None
    missing = [m.name for m in artifacts.semantic.metrics if m.name not in text]
    assert not missing, f"{name} left out metrics {missing}"
    assert all(v not in text for v in sandbox.secrets.values())


@pytest.mark.parametrize("name", params(PluginType.SEMANTIC_LAYER))
def test_no_semantic_section_generates_nothing(name: str, sandbox: Sandbox, artifacts: CompiledArtifacts) -> None:
    plain = artifacts.model_copy(update={"semantic": None})
    assert sandbox.create(PluginType.SEMANTIC_LAYER, name).generate_model(plain) == {}
