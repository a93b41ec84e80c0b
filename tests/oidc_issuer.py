"""An OpenID Connect issuer's published documents, with keys generated per test run.

Unit tests answer the plugin's HTTP calls from these documents in-process; the integration test
serves them over a real local HTTP server. Tokens are minted here with the issuer's private keys.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa


@dataclass
class SigningKey:
    kid: str
    alg: str
    private: Any

    def jwk(self) -> dict[str, Any]:
        algo = jwt.get_algorithm_by_name(self.alg)
        return {**json.loads(algo.to_jwk(self.private.public_key())), "kid": self.kid, "alg": self.alg, "use": "sig"}


def new_key(alg: str = "RS256", kid: str | None = None) -> SigningKey:
    private: Any = (rsa.generate_private_key(public_exponent=65537, key_size=2048) if alg.startswith(("RS", "PS"))
                    else ec.generate_private_key(ec.SECP256R1()))
    return SigningKey(kid or f"{alg.lower()}-{uuid.uuid4().hex[:8]}", alg, private)


@dataclass
class Issuer:
    """The issuer's state: where it is, the keys its JWKS publishes, and the documents it was asked for."""

    base: str
    """scheme://host:port"""
    path: str = "/idp"
    audience: str = "floe-semantic"
    keys: list[SigningKey] = field(default_factory=lambda: [new_key("RS256"), new_key("ES256")])
    requests: list[str] = field(default_factory=list)
    names_itself: str | None = None
    """The ``issuer`` its discovery document states (default: its URL, as OpenID Connect requires)."""

    @property
    def url(self) -> str:
        return self.base + self.path

    def document(self, path: str) -> dict[str, Any] | None:
        """What the issuer answers at ``path`` (the URL after scheme://host:port), None for 404."""
        self.requests.append(path)
        if path == f"{self.path}/.well-known/openid-configuration":
            return {"issuer": self.names_itself or self.url, "jwks_uri": f"{self.url}/keys",
                    "id_token_signing_alg_values_supported": sorted({k.alg for k in self.keys})}
        if path == f"{self.path}/keys":
            return {"keys": [k.jwk() for k in self.keys]}
        return None

    def mint(self, key: SigningKey | None = None, *, headers: dict[str, Any] | None = None, **claims: Any) -> str:
        """An ID token signed with ``key`` (default: the issuer's first); ``claims`` override the defaults,
        a claim given as None is left out."""
        key = key or self.keys[0]
        now = int(time.time())
        body = {"iss": self.url, "aud": self.audience, "sub": "user-1", "email": "user@example.test",
                "iat": now, "exp": now + 300, **claims}
        return jwt.encode({k: v for k, v in body.items() if v is not None}, key.private, algorithm=key.alg,
                          headers={"kid": key.kid, **(headers or {})})


def answer_in_process(issuer: Issuer, monkeypatch: Any) -> Issuer:
    """Route ``httpx.get`` to the issuer's documents (unit tests: no server); other hosts are refused."""
    import httpx

    def get(url: str, **_: Any) -> httpx.Response:
        parsed = httpx.URL(url)
        if f"{parsed.scheme}://{parsed.netloc.decode()}" != issuer.base:
            raise httpx.ConnectError("connection refused")
        body = issuer.document(parsed.path)
        return httpx.Response(200 if body is not None else 404, json=body, request=httpx.Request("GET", url))

    monkeypatch.setattr(httpx, "get", get)
    return issuer
