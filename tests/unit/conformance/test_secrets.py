"""Secrets plugins: resolve a reference to the stored value, and name a missing one in a FloeError."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from floe.config._base import SecretRef
from floe.errors import ConfigError, FloeError
from floe.plugins.types import PluginType

from .conftest import Sandbox
from .samples import params


def _env(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> str:
    monkeypatch.setenv(name, value)
    return f"env:{name}"


def _file(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> str:
    folder = Path(sandbox.config(PluginType.SECRETS, "file")["directory"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(value + "\n")  # mounted secrets often end with a newline
    return f"file:{name}"


STORE: dict[str, Callable[[Sandbox, pytest.MonkeyPatch, str, str], str]] = {"env": _env, "file": _file}
"""How a test stores a secret where each plugin reads it; returns the reference to resolve it by."""


def _store(name: str) -> Callable[[Sandbox, pytest.MonkeyPatch, str, str], str]:
    if name not in STORE:
        pytest.fail(f"secrets plugin {name!r} has no way to store a test secret: add STORE[{name!r}] in "
                    "tests/unit/conformance/test_secrets.py", pytrace=False)
    return STORE[name]


@pytest.mark.parametrize("name", params(PluginType.SECRETS))
def test_resolves_a_stored_secret(name: str, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    value = "s3cr3t-from-the-store"  # pragma: allowlist secret - generated test value
    ref = SecretRef.model_validate(_store(name)(sandbox, monkeypatch, "FLOE_CONF_STORED", value))
    secret = sandbox.create(PluginType.SECRETS, name).get_secret(ref)
    assert secret.get_secret_value() == value
    assert value not in str(secret) and value not in repr(secret)


@pytest.mark.parametrize("name", params(PluginType.SECRETS))
def test_missing_secret_is_a_config_error_naming_the_reference(name: str, sandbox: Sandbox,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    ref = SecretRef.model_validate(_store(name)(sandbox, monkeypatch, "FLOE_CONF_OTHER", "x"))
    missing = ref.model_copy(update={"name": "FLOE_TEST_UNSET"})
    with pytest.raises(ConfigError) as err:
        sandbox.create(PluginType.SECRETS, name).get_secret(missing)
    assert isinstance(err.value, FloeError)
    assert "FLOE_TEST_UNSET" in str(err.value)
