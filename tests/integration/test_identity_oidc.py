"""The oidc identity plugin against an OpenID Connect issuer on 127.0.0.1, and `floe semantic serve`
guarded by it (FLOE-IDENTITY).

Dex cannot be built from the Go module proxy reachable here (README, capability "Identity"), so the
issuer is a real local HTTP server publishing a discovery document and a JWKS whose keys (RSA and EC)
are generated per run; tokens are signed with those keys. The service is the real CLI process
(`floe semantic serve` over compiled artifacts whose manifest sets `plugins.identity: oidc`), stopped
by its PID.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from pydantic import SecretStr
from tests.conftest import DEMO, ROOT
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


# -- `floe semantic serve` guarded by the issuer -----------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(issuer: Issuer, tmp_path: Path) -> Iterator[str]:
    """customer-360 compiled against the embedded manifest plus `identity: oidc`, served by the CLI."""
    from floe.compiler.stages import compile_pipeline
    from floe.contract import ARTIFACTS_FILE

    demo = tmp_path / "demo"
    shutil.copytree(DEMO, demo, ignore=shutil.ignore_patterns("target", "logs", ".floe", "*.duckdb"))
    manifest = demo / "manifest.embedded.yaml"
    doc = yaml.safe_load(manifest.read_text())
    doc["plugins"]["identity"] = {"type": "oidc", "issuer_url": issuer.url, "audience": issuer.audience}
    manifest.write_text(yaml.safe_dump(doc, sort_keys=False))
    out = tmp_path / "out"
    compile_pipeline(demo / "customer-360", manifest, output_dir=out)
    port = _free_port()
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "floe.cli.main", "semantic", "serve", str(out / ARTIFACTS_FILE),
                             "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT, stdout=log,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the semantic service did not answer /health within 60 s"
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


@pytest.mark.requirement("FLOE-IDENTITY")
def test_semantic_service_authenticates_through_the_manifests_oidc_issuer(served: str, issuer: Issuer) -> None:
    meta = httpx.get(f"{served}/v1/meta", headers={"Authorization": f"Bearer {issuer.mint()}"}, timeout=10)
    assert meta.status_code == 200, meta.text
    assert {m["name"] for m in meta.json()["products"]["customer-360"]["metrics"]} >= {"customer_count"}
    wrong = issuer.mint(aud="another-client")
    r = httpx.post(f"{served}/v1/query", json={"product": "customer-360", "metrics": ["customer_count"]},
                   headers={"Authorization": f"Bearer {wrong}"}, timeout=10)
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    assert "wrong audience" in r.json()["error"] and "'floe-semantic'" in r.json()["error"]
    assert wrong not in r.text
    r = httpx.get(f"{served}/v1/meta", timeout=10)
    assert r.status_code == 401 and "missing bearer token" in r.json()["error"]
