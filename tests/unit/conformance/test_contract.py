"""What every plugin of every type keeps: a strict config model that survives the compiled artifacts.

The compiler stores ``config.model_dump(mode="json", exclude={"type"})`` in a ``PluginRef`` and runs
rebuild the plugin with ``registry.from_ref``; secrets travel as references only.
"""

from __future__ import annotations

import json
import re
import time
import typing
from typing import Any, ClassVar
from urllib.parse import urlsplit

import pytest
from pydantic import BaseModel, SecretStr, ValidationError

from floe.config._base import SecretRef
from floe.config.plugins import PluginConfig, ProductPrincipal
from floe.contract import PluginRef
from floe.plugins import PLUGIN_ABC_MAP, HealthState, is_compatible
from floe.plugins.registry import get_registry
from floe.plugins.types import PluginType

from .conftest import Sandbox
from .samples import implementations, missing_message, missing_samples

ALL = [pytest.param(t, n, id=f"{t.value}:{n}") for t in PluginType for n in implementations(t)]
SECRET_NAME = re.compile(r"(secret|password|token|credential|access_key|key_id|api_key)$")


@pytest.mark.parametrize("ptype", list(PluginType), ids=[t.value for t in PluginType])
def test_every_implementation_has_a_sample(ptype: PluginType) -> None:
    assert implementations(ptype), f"no {ptype.value} plugin is installed"
    missing = missing_samples(ptype, get_registry())
    assert not missing, missing_message(ptype, missing)


def test_a_plugin_without_a_sample_is_named_with_where_to_add_it() -> None:
    from floe.plugins.lineage.backends import ConsoleLineagePlugin

    class Untested(ConsoleLineagePlugin):
        name: ClassVar[str] = "untested"

    reg = get_registry()
    reg.register(PluginType.LINEAGE_BACKEND, Untested)
    missing = missing_samples(PluginType.LINEAGE_BACKEND, reg)
    assert missing == ["untested"]
    message = missing_message(PluginType.LINEAGE_BACKEND, missing)
    assert "SAMPLES[PluginType.LINEAGE_BACKEND]['untested']" in message
    assert "tests/unit/conformance/samples.py" in message


def test_the_example_package_is_among_the_implementations() -> None:
    assert "example-sql" in implementations(PluginType.CATALOG)
    assert "example-jsonl" in implementations(PluginType.ALERT_CHANNEL)


def _mentions(annotation: Any, target: type) -> bool:
    if annotation is target:
        return True
    return any(_mentions(a, target) for a in typing.get_args(annotation))


@pytest.mark.parametrize(("ptype", "name"), ALL)
def test_class_and_config_model(ptype: PluginType, name: str) -> None:
    cls = get_registry().get(ptype, name)
    assert issubclass(cls, PLUGIN_ABC_MAP[ptype]) and cls.name == name
    assert cls.version and cls.description
    assert is_compatible(cls.floe_api_version)
    model = cls.config_model
    assert model is not None, f"{name}: declare config_model (a PluginConfig subclass narrowing `type`)"
    assert issubclass(model, PluginConfig)
    assert model.model_config.get("frozen") is True and model.model_config.get("extra") == "forbid"
    # `type` is narrowed to the plugin's own name: another plugin's config is not taken for this one's
    assert typing.get_args(model.model_fields["type"].annotation) == (name,), (
        f"{name}: declare `type: Literal[{name!r}]` on {model.__name__}")
    with pytest.raises(ValidationError):
        model.model_validate({"type": f"not-{name}"})
    for field_name, info in model.model_fields.items():
        if SECRET_NAME.search(field_name):
            assert _mentions(info.annotation, SecretRef) or _mentions(info.annotation, SecretStr), (
                f"{name}.{field_name} looks like a secret: type it SecretRef, never a plain value")


@pytest.mark.parametrize(("ptype", "name"), ALL)
def test_config_is_frozen_and_refuses_unknown_keys(ptype: PluginType, name: str, sandbox: Sandbox) -> None:
    model = get_registry().get(ptype, name).config_model
    assert model is not None
    cfg = model.model_validate(sandbox.config(ptype, name))
    with pytest.raises(ValidationError):
        cfg.type = "other"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="not_a_setting"):
        model.model_validate({**sandbox.config(ptype, name), "not_a_setting": 1})


@pytest.mark.parametrize(("ptype", "name"), ALL)
def test_config_survives_the_artifacts(ptype: PluginType, name: str, sandbox: Sandbox) -> None:
    reg = get_registry()
    plugin = sandbox.create(ptype, name)
    assert isinstance(plugin.config, BaseModel)
    # exactly what the compiler stores, through a JSON file and back
    stored = plugin.config.model_dump(mode="json", exclude={"type"})
    ref = PluginRef.model_validate_json(PluginRef(type=name, version=plugin.version, config=stored).model_dump_json())
    rebuilt = reg.from_ref(ptype, ref)
    assert type(rebuilt) is type(plugin)
    assert rebuilt.config == plugin.config
    text = json.dumps(stored)
    for var, value in sandbox.secrets.items():
        assert value not in text, f"{name}: the value of {var} reached the stored config"
    for key, value in plugin.config:
        if isinstance(value, SecretRef):
            assert stored[key] == str(value) == sandbox.config(ptype, name)[key], "secrets stored as references"


@pytest.mark.parametrize(("ptype", "name"), ALL)
def test_describe_and_health_never_raise(ptype: PluginType, name: str, sandbox: Sandbox) -> None:
    plugin = sandbox.create(ptype, name)
    described = plugin.describe()
    assert isinstance(described, str) and described.startswith(name)
    for value in sandbox.config(ptype, name).values():
        path = urlsplit(value).path if isinstance(value, str) and value.startswith("http") else ""
        assert path.strip("/") == "" or path not in described, f"{name}: describe() shows the URL path {path}"
    assert all(v not in described for v in sandbox.secrets.values())
    unconfigured = get_registry().get(ptype, name)(None)
    assert unconfigured.describe() == name
    # no service runs here: configured plugins answer within the deadline, healthy or not, never raising
    for candidate in (plugin, unconfigured):
        started = time.monotonic()
        status = candidate.health_check(timeout=1)
        assert time.monotonic() - started < 2, f"{name}: health_check overran its timeout"
        assert status.state in set(HealthState)
        assert isinstance(status.message, str) and status.message


@pytest.mark.parametrize(("ptype", "name"), ALL)
def test_stack_hooks_answer_about_the_config(ptype: PluginType, name: str, sandbox: Sandbox) -> None:
    model = get_registry().get(ptype, name).config_model
    assert model is not None
    cfg = model.model_validate(sandbox.config(ptype, name))
    for key, value in cfg.local_paths().items():
        assert getattr(cfg, key) == value, f"{name}: local_paths()[{key!r}] is not the config's {key}"
    json.dumps(cfg.chart_values())  # merged into Helm values: plain JSON
    principal = ProductPrincipal(product="customer-360", client_id=SecretRef.model_validate("env:CONF_P_ID"),
                                 client_secret=SecretRef.model_validate("env:CONF_P_SECRET"))
    scoped = cfg.for_product(principal)
    assert type(scoped) is type(cfg)
    assert model.model_validate_json(scoped.model_dump_json()) == scoped
    if not cfg.product_principals:
        assert scoped == cfg, f"{name}: without per-product principals a product sees the platform config"
