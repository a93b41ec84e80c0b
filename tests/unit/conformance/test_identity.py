"""Identity plugins: the right bearer token is accepted with its caller's claims, every other refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tests.oidc_issuer import Issuer, answer_in_process

from floe.errors import AuthenticationError
from floe.plugins.types import PluginType

from .conftest import Sandbox
from .samples import params


def _static_token(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> str:
    return sandbox.secrets["CONF_TOKEN"]


def _oidc(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> str:
    """The sample's issuer, answered in-process (its documents from tests/oidc_issuer.py)."""
    issuer = answer_in_process(Issuer("https://issuer.test"), monkeypatch)
    assert sandbox.config(PluginType.IDENTITY, "oidc")["issuer_url"] == issuer.url
    return issuer.mint()


TOKENS: dict[str, Callable[[Sandbox, pytest.MonkeyPatch], str]] = {"static-token": _static_token, "oidc": _oidc}
"""A token each plugin must accept, given its sample configuration."""


@pytest.fixture
def bound(request: pytest.FixtureRequest, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, str]:
    name = request.param
    if name not in TOKENS:
        pytest.fail(f"identity plugin {name!r} has no valid test token: add TOKENS[{name!r}] in "
                    "tests/unit/conformance/test_identity.py", pytrace=False)
    token = TOKENS[name](sandbox, monkeypatch)
    return sandbox.create(PluginType.IDENTITY, name).bind(sandbox.resolver()), token


def _refused(call: Callable[[], Any], token: str) -> str:
    with pytest.raises(AuthenticationError) as err:
        call()
    assert token not in str(err.value), "a refusal never echoes the token"
    return str(err.value)


@pytest.mark.parametrize("bound", params(PluginType.IDENTITY), indirect=True)
def test_accepts_the_right_token(bound: tuple[Any, str]) -> None:
    plugin, token = bound
    claims = plugin.authenticate({"authorization": f"Bearer {token}"})
    assert isinstance(claims.get("sub"), str) and claims["sub"]


@pytest.mark.parametrize("bound", params(PluginType.IDENTITY), indirect=True)
def test_refuses_any_other_token_without_echoing_it(bound: tuple[Any, str]) -> None:
    plugin, token = bound
    other = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    _refused(lambda: plugin.authenticate({"Authorization": f"Bearer {other}"}), other)
    _refused(lambda: plugin.authenticate({"Authorization": "Bearer not-a-token-at-all"}), "not-a-token-at-all")
    _refused(lambda: plugin.authenticate({"Authorization": f"Basic {token}"}), token)
    assert "missing bearer token" in _refused(lambda: plugin.authenticate({}), token)


def test_static_token_subject_is_the_configured_one(sandbox: Sandbox) -> None:
    plugin = sandbox.create(PluginType.IDENTITY, "static-token").bind(sandbox.resolver())
    assert plugin.authenticate({"Authorization": f"Bearer {sandbox.secrets['CONF_TOKEN']}"}) == {"sub": "conformance"}
    assert sandbox.resolved == ["env:CONF_TOKEN"]
