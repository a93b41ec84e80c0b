"""The oidc identity plugin against an OpenID Connect issuer on 127.0.0.1 (FLOE-IDENTITY).

Dex cannot be built from the Go module proxy reachable here (README, capability "Identity"), so the
issuer is a real local HTTP server publishing a discovery document and a JWKS whose keys (RSA and EC)
are generated per run; tokens are signed with those keys.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pydantic import SecretStr
from tests.oidc_issuer import Issuer, new_key

from floe.errors import AuthenticationError, ServiceUnavailableError
from floe.plugins import IdentityPlugin, PluginType, get_registry
from floe.plugins.identity.oidc import OidcIdentityPlugin

pytestmark = pytest.mark.integration


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    """An issuer on 127.0.0.1 (its own port), answering discovery and JWKS over HTTP."""
    state: dict[str, Issuer] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = state["issuer"].document(self.path)
            data = json.dumps(body).encode() if body is not None else b"{}"
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["issuer"] = Issuer(f"http://127.0.0.1:{server.server_address[1]}", path="/dex")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state["issuer"]
    server.shutdown()
    server.server_close()


def _oidc(issuer: Issuer, audience: str = "floe-semantic") -> IdentityPlugin:
    plugin = get_registry().create(PluginType.IDENTITY, "oidc",
                                   {"type": "oidc", "issuer_url": issuer.url, "audience": audience})
    assert isinstance(plugin, IdentityPlugin)
    return plugin


def _refused(plugin: IdentityPlugin, token: str) -> str:
    with pytest.raises(AuthenticationError) as err:
        plugin.authenticate({"Authorization": f"Bearer {token}"})
    assert token not in str(err.value) and token.split(".")[-1] not in str(err.value)
    return str(err.value)


@pytest.mark.requirement("FLOE-IDENTITY")
def test_issuer_tokens_accepted_over_http_keys_fetched_once(issuer: Issuer) -> None:
    plugin = _oidc(issuer)
    for key in issuer.keys * 5:  # RS256 and ES256, as the JWKS says
        claims = plugin.authenticate({"Authorization": f"Bearer {issuer.mint(key, email='a@example.test')}"})
        assert claims["sub"] == "user-1" and claims["email"] == "a@example.test"
    assert issuer.requests == ["/dex/.well-known/openid-configuration", "/dex/keys"]
    assert plugin.health_check(timeout=2).ok


@pytest.mark.requirement("FLOE-IDENTITY")
def test_wrong_audience_expired_and_foreign_keys_refused_with_the_reason(issuer: Issuer) -> None:
    plugin = _oidc(issuer)
    assert "wrong audience: the token is for 'another-client'" in _refused(plugin, issuer.mint(aud="another-client"))
    assert "the token expired at" in _refused(plugin, issuer.mint(exp=int(time.time()) - 120))
    forged = issuer.mint(new_key("RS256", kid=issuer.keys[0].kid))
    assert "signature does not verify" in _refused(plugin, forged)
    assert "unknown key (kid 'made-up'" in _refused(plugin, issuer.mint(new_key("ES256", kid="made-up")))


@pytest.mark.requirement("FLOE-IDENTITY")
def test_rotated_keys_are_fetched_again_and_retired_ones_refused(
        issuer: Issuer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(OidcIdentityPlugin, "jwks_refresh_seconds", 0.0)
    plugin = _oidc(issuer)
    old_kid, old = issuer.keys[0].kid, issuer.mint()
    assert plugin.validate_token(SecretStr(old))["sub"] == "user-1"
    issuer.keys = [new_key("RS256")]  # the issuer rotates: a new key, the old one retired
    assert plugin.validate_token(SecretStr(issuer.mint()))["sub"] == "user-1"
    assert issuer.requests.count("/dex/keys") == 2
    assert f"unknown key (kid {old_kid!r}" in _refused(plugin, old)


@pytest.mark.requirement("FLOE-IDENTITY")
def test_issuer_down_is_a_service_error_not_a_refusal(issuer: Issuer) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket closes
    plugin = get_registry().create(PluginType.IDENTITY, "oidc", {
        "type": "oidc", "issuer_url": f"http://127.0.0.1:{port}/dex", "audience": "floe-semantic"})
    with pytest.raises(ServiceUnavailableError) as err:
        plugin.validate_token(SecretStr(issuer.mint()))  # type: ignore[attr-defined]
    assert f"GET http://127.0.0.1:{port}/dex/.well-known/openid-configuration" in str(err.value)
    assert not plugin.health_check(timeout=2).ok
