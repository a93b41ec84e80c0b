"""Identity plugins: the static token and OpenID Connect ID tokens, and what a refused caller is told.

The OIDC issuer's documents come from tests/oidc_issuer.py (keys generated per run), answered
in-process; tests/integration/test_identity_oidc.py serves them over real HTTP. Every token and secret
is generated at run time, and no refusal message may contain the token it refused.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import SecretStr
from tests.conftest import DEMO
from tests.oidc_issuer import Issuer, answer_in_process, new_key

from floe.errors import AuthenticationError, ConfigError, PluginConfigurationError, ServiceUnavailableError
from floe.plugins import IdentityPlugin, PluginType, get_registry, load_manifest
from floe.plugins.identity.oidc import OidcIdentityPlugin
from floe.plugins.interfaces import SecretResolver
from floe.plugins.secrets.env import EnvSecretsPlugin

TOKEN_VAR = "FLOE_TEST_IDENTITY_TOKEN"


def _plugin(config: dict[str, Any]) -> IdentityPlugin:
    plugin = get_registry().create(PluginType.IDENTITY, config["type"], config)
    assert isinstance(plugin, IdentityPlugin)
    return plugin


def _refusal(call: Callable[[], Any], *token_parts: str) -> str:
    """The message of the AuthenticationError ``call`` raises, checked not to contain the token."""
    with pytest.raises(AuthenticationError) as err:
        call()
    text = str(err.value)
    for part in filter(None, token_parts):
        assert part not in text, "a refusal must never echo the token"
    return text


# -- static-token ------------------------------------------------------------------------------------

@pytest.fixture
def static_token(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[IdentityPlugin, str]:
    token = secrets.token_urlsafe(24)
    monkeypatch.setenv(TOKEN_VAR, token)
    monkeypatch.setenv("FLOE_HOME", str(tmp_path / "home"))  # no platform's secrets.env answers for it
    plugin = _plugin({"type": "static-token", "token": f"env:{TOKEN_VAR}"})
    return plugin.bind(SecretResolver(EnvSecretsPlugin())), token


def test_static_token_accepts_its_token_through_the_authorization_header(
        static_token: tuple[IdentityPlugin, str]) -> None:
    plugin, token = static_token
    assert plugin.authenticate({"Authorization": f"Bearer {token}"}) == {"sub": "static-token"}
    # header names are case-insensitive, and so is the scheme
    assert plugin.authenticate({"AUTHORIZATION": f"bearer  {token} "}) == {"sub": "static-token"}
    assert plugin.validate_token(SecretStr(token)) == {"sub": "static-token"}


def test_static_token_refuses_another_token_without_echoing_either(static_token: tuple[IdentityPlugin, str]) -> None:
    plugin, token = static_token
    other = secrets.token_urlsafe(24)
    text = _refusal(lambda: plugin.authenticate({"Authorization": f"Bearer {other}"}), other, token)
    assert "wrong bearer token" in text and f"env:{TOKEN_VAR}" in text  # names the reference, not the value
    # a prefix of the right token is not the token
    _refusal(lambda: plugin.validate_token(SecretStr(token[:-1])), token)


@pytest.mark.parametrize(("headers", "why"), [
    ({}, "no Authorization header"),
    ({"Authorization": "  "}, "no Authorization header"),
    ({"Authorization": "Bearer "}, "none after 'Bearer'"),
    ({"authorization": "Basic dXNlcjpwYXNz"}, "not a bearer token"),
])
def test_authenticate_says_what_is_wrong_with_the_header(
        static_token: tuple[IdentityPlugin, str], headers: dict[str, str], why: str) -> None:
    plugin, _ = static_token
    text = _refusal(lambda: plugin.authenticate(headers))
    assert why in text and "Authorization: Bearer <token>" in text


def test_a_token_sent_without_the_bearer_scheme_is_not_echoed(static_token: tuple[IdentityPlugin, str]) -> None:
    plugin, token = static_token
    assert "not a bearer token" in _refusal(lambda: plugin.authenticate({"Authorization": token}), token)


def test_static_token_secret_is_resolved_at_bind_and_named_when_missing(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FLOE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv(TOKEN_VAR, raising=False)
    plugin = _plugin({"type": "static-token", "token": f"env:{TOKEN_VAR}"})
    with pytest.raises(PluginConfigurationError, match=r"bind\(\)"):
        plugin.validate_token(SecretStr("x"))
    with pytest.raises(ConfigError, match=f"env:{TOKEN_VAR} is not set"):
        plugin.bind(SecretResolver(EnvSecretsPlugin()))
    monkeypatch.setenv(TOKEN_VAR, "")
    with pytest.raises(ConfigError, match=f"env:{TOKEN_VAR} is empty"):
        plugin.bind(SecretResolver(EnvSecretsPlugin()))


def test_static_token_config_takes_a_reference_never_a_value(tmp_path: Path) -> None:
    doc = yaml.safe_load((DEMO / "manifest.yaml").read_text())
    assert doc["plugins"]["identity"] == {"type": "static-token", "token": "env:FLOE_SEMANTIC_TOKEN"}
    doc["plugins"]["identity"]["token"] = secrets.token_hex(8)  # a literal: no source prefix
    path = tmp_path / "manifest.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(ConfigError) as err:
        load_manifest(path)
    assert "plugins.identity.token" in str(err.value) and "env:NAME" in str(err.value)


def test_compiled_artifacts_carry_the_token_reference_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from floe.compiler.stages import compile_pipeline

    token = secrets.token_urlsafe(24)
    monkeypatch.setenv("FLOE_SEMANTIC_TOKEN", token)
    artifacts = compile_pipeline(DEMO / "customer-360", DEMO / "manifest.yaml", output_dir=tmp_path)
    assert artifacts.plugins.identity is not None
    assert artifacts.plugins.identity.config["token"] == "env:FLOE_SEMANTIC_TOKEN"
    assert all(token not in p.read_text() for p in tmp_path.rglob("*") if p.is_file())


# -- oidc ----------------------------------------------------------------------------------------------

@pytest.fixture
def issuer(monkeypatch: pytest.MonkeyPatch) -> Issuer:
    """The issuer's HTTP answers, in-process: httpx.get is routed to its documents."""
    return answer_in_process(Issuer("https://issuer.test"), monkeypatch)


@pytest.fixture
def oidc(issuer: Issuer) -> IdentityPlugin:
    return _plugin({"type": "oidc", "issuer_url": issuer.url, "audience": issuer.audience})


def _without_signature_check(token: str) -> dict[str, Any]:
    import jwt

    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_oidc_accepts_the_issuers_tokens(oidc: IdentityPlugin, issuer: Issuer, alg: str) -> None:
    key = next(k for k in issuer.keys if k.alg == alg)
    claims = oidc.authenticate({"Authorization": f"Bearer {issuer.mint(key)}"})
    assert claims["sub"] == "user-1" and claims["aud"] == "floe-semantic" and claims["iss"] == issuer.url
    assert issuer.requests.count("/idp/.well-known/openid-configuration") == 1


def test_oidc_tolerates_small_clock_skew(oidc: IdentityPlugin, issuer: Issuer) -> None:
    now = int(time.time())
    assert oidc.validate_token(SecretStr(issuer.mint(exp=now - 5, nbf=now + 5)))["sub"] == "user-1"


def _tampered(issuer: Issuer) -> str:
    head, _, rest = issuer.mint().partition(".")
    _, _, signature = rest.partition(".")
    body = {**_without_signature_check(issuer.mint()), "sub": "admin"}
    payload = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
    return f"{head}.{payload}.{signature}"


def _unsigned(issuer: Issuer) -> str:
    import jwt

    return jwt.encode({"iss": issuer.url, "aud": issuer.audience, "sub": "u", "exp": int(time.time()) + 60},
                      None, algorithm="none")


def _hmac(issuer: Issuer) -> str:
    import jwt

    return jwt.encode({"iss": issuer.url, "aud": issuer.audience, "sub": "u", "exp": int(time.time()) + 60},
                      secrets.token_bytes(32), algorithm="HS256", headers={"kid": issuer.keys[0].kid})


REFUSALS: dict[str, tuple[Callable[[Issuer], str], list[str]]] = {
    "expired": (lambda i: i.mint(exp=int(time.time()) - 3600), ["the token expired at", "leeway 30 s", "ago"]),
    "not yet valid": (lambda i: i.mint(nbf=int(time.time()) + 3600), ["not valid before", "from now"]),
    "wrong audience": (lambda i: i.mint(aud="another-app"),
                       ["wrong audience", "'another-app'", "accepts 'floe-semantic'"]),
    "wrong issuer": (lambda i: i.mint(iss="https://elsewhere.test"),
                     ["wrong issuer", "'https://elsewhere.test'", "trusts 'https://issuer.test/idp'"]),
    "no expiry": (lambda i: i.mint(exp=None), ["no 'exp' claim"]),
    "signed by another key": (lambda i: i.mint(new_key("RS256", kid=i.keys[0].kid)),
                              ["signature does not verify", "signed by another key or changed after signing"]),
    "payload changed after signing": (_tampered, ["signature does not verify"]),
    "unknown key": (lambda i: i.mint(new_key("RS256", kid="rotated-away")),
                    ["unknown key (kid 'rotated-away', RS256)", "https://issuer.test/idp/keys"]),
    "algorithm of another key": (lambda i: i.mint(i.keys[0], headers={"kid": i.keys[1].kid}),
                                 ["signed with RS256", "is for ES256"]),
    "unsigned": (_unsigned, ["algorithm 'none' is not accepted", "RS256"]),
    "hmac": (_hmac, ["algorithm 'HS256' is not accepted"]),
    "not a jwt": (lambda i: secrets.token_urlsafe(24), ["not a JWT"]),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_oidc_refusals_say_what_was_wrong(oidc: IdentityPlugin, issuer: Issuer, case: str) -> None:
    make, expected = REFUSALS[case]
    token = make(issuer)
    text = _refusal(lambda: oidc.authenticate({"Authorization": f"Bearer {token}"}), token, token.split(".")[-1])
    for part in expected:
        assert part in text, f"{case}: {part!r} not in {text!r}"


def test_oidc_unknown_key_fetches_the_key_set_again(
        oidc: IdentityPlugin, issuer: Issuer, monkeypatch: pytest.MonkeyPatch) -> None:
    oidc.validate_token(SecretStr(issuer.mint()))
    rotated = new_key("ES256")
    issuer.keys.append(rotated)
    # within the refresh interval, a token naming a new key does not make the plugin fetch again
    _refusal(lambda: oidc.validate_token(SecretStr(issuer.mint(rotated))))
    assert issuer.requests.count("/idp/keys") == 1
    monkeypatch.setattr(OidcIdentityPlugin, "jwks_refresh_seconds", 0.0)
    assert oidc.validate_token(SecretStr(issuer.mint(rotated)))["sub"] == "user-1"
    assert issuer.requests.count("/idp/keys") == 2
    assert issuer.requests.count("/idp/.well-known/openid-configuration") == 1  # discovery is cached


def test_oidc_issuer_unreachable_is_a_service_error_naming_it(monkeypatch: pytest.MonkeyPatch, issuer: Issuer) -> None:
    plugin = _plugin({"type": "oidc", "issuer_url": "https://down.test/idp", "audience": "floe-semantic"})
    with pytest.raises(ServiceUnavailableError) as err:
        plugin.validate_token(SecretStr(issuer.mint()))
    assert "https://down.test/idp/.well-known/openid-configuration" in str(err.value)
    assert "ConnectError" in str(err.value) and "issuer_url" in str(err.value)


def test_oidc_refuses_a_discovery_document_of_another_issuer(issuer: Issuer) -> None:
    plugin = _plugin({"type": "oidc", "issuer_url": issuer.base + "/idp/", "audience": "floe-semantic"})
    assert plugin.validate_token(SecretStr(issuer.mint()))["sub"] == "user-1"  # a trailing slash is the same issuer
    issuer.names_itself = "https://elsewhere.test"
    plugin = _plugin({"type": "oidc", "issuer_url": issuer.url, "audience": "floe-semantic"})
    with pytest.raises(ServiceUnavailableError) as err:
        plugin.validate_token(SecretStr(issuer.mint()))
    assert "discovery document of https://issuer.test/idp names issuer 'https://elsewhere.test'" in str(err.value)

