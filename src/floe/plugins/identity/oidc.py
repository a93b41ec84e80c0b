"""OpenID Connect: bearer tokens are the issuer's signed JWTs, checked against its published keys.

Discovery (``<issuer>/.well-known/openid-configuration``) gives the ``jwks_uri``; the key set is
cached and fetched again when a token names a key the cache does not have (the issuer rotated its
keys), at most once per ``jwks_refresh_seconds``. PyJWT is imported on first use only, so the CLI
never loads it.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import SecretStr

from floe.config._base import Url
from floe.config.plugins import PluginConfig
from floe.errors import AuthenticationError, PluginConfigurationError, ServiceUnavailableError
from floe.plugins._http import http_ok
from floe.plugins.base import HealthStatus
from floe.plugins.interfaces import IdentityPlugin

if TYPE_CHECKING:
    import jwt

# Asymmetric only: an HMAC algorithm would let anyone holding the issuer's public key sign tokens.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
_HINT = "get a new token from the issuer and send it as `Authorization: Bearer <token>`"


class OidcIdentityConfig(PluginConfig):
    type: Literal["oidc"]
    issuer_url: Url
    audience: str


class OidcIdentityPlugin(IdentityPlugin):
    """OpenID Connect: tokens validated against the issuer's published keys."""

    name: ClassVar[str] = "oidc"
    description: ClassVar[str] = "OpenID Connect issuer"
    config_model = OidcIdentityConfig
    config: OidcIdentityConfig | None

    leeway_seconds: ClassVar[float] = 30.0
    """Clock skew tolerated on ``exp``, ``nbf`` and ``iat``."""
    jwks_refresh_seconds: ClassVar[float] = 30.0
    """Least time between two key-set fetches caused by unknown keys (tokens with made-up key ids
    must not turn the service into a load generator for the issuer)."""
    jwks_max_age_seconds: ClassVar[float] = 3600.0
    http_timeout_seconds: ClassVar[float] = 5.0

    def __init__(self, config: OidcIdentityConfig | None = None) -> None:
        super().__init__(config)
        self._lock = threading.Lock()
        self._jwks_uri: str | None = None
        self._keys: list[dict[str, Any]] | None = None
        self._fetched_at = float("-inf")

    def validate_token(self, token: SecretStr) -> dict[str, Any]:
        import jwt

        cfg = self._config()
        raw = token.get_secret_value()
        try:
            header = jwt.get_unverified_header(raw)
        except jwt.PyJWTError:
            raise AuthenticationError("the bearer token is not a JWT (three base64url parts: header.payload."
                                      "signature)", hint=_HINT) from None
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in ALGORITHMS:
            raise AuthenticationError(f"the token's signing algorithm {str(alg)[:16]!r} is not accepted",
                                      hint=f"accepted: {', '.join(ALGORITHMS)}")
        key = self._key(kid if isinstance(kid, str) else None, alg)
        issuer = cfg.issuer_url.rstrip("/")
        try:
            claims: dict[str, Any] = jwt.decode(
                raw, key.key, algorithms=[alg], audience=cfg.audience, issuer=[issuer, issuer + "/"],
                leeway=self.leeway_seconds, options={"require": ["exp", "iss", "aud", "sub"]})
        except jwt.PyJWTError as exc:
            raise self._refusal(exc, raw, kid) from None
        return claims

    def health_check(self, timeout: float = 5.0) -> HealthStatus:
        if self.config is None:
            return self.not_configured()
        return http_ok(self._discovery_url(), timeout)

    # -- token refusals ----------------------------------------------------------------------------
    def _refusal(self, exc: Exception, raw: str, kid: Any) -> AuthenticationError:
        """What was wrong with a token whose signature or claims failed, without the token itself."""
        import jwt

        cfg = self._config()
        # Read unverified only to say which claim failed; PyJWT checks claims after the signature verified.
        claims = _unverified_claims(raw)
        if isinstance(exc, jwt.InvalidSignatureError):
            return AuthenticationError(f"the token's signature does not verify with the issuer's key {kid!r}: "
                                       "it was signed by another key or changed after signing", hint=_HINT)
        if isinstance(exc, jwt.ExpiredSignatureError):
            return AuthenticationError(f"the token expired at {_when(claims.get('exp'))} (leeway "
                                       f"{self.leeway_seconds:.0f} s)", hint=_HINT)
        if isinstance(exc, jwt.ImmatureSignatureError):
            return AuthenticationError(f"the token is not valid before {_when(claims.get('nbf'))} (nbf; leeway "
                                       f"{self.leeway_seconds:.0f} s)", hint="check the clocks of the issuer and "
                                       "this host, or retry once the token is valid")
        if isinstance(exc, jwt.InvalidIssuedAtError):
            return AuthenticationError(f"the token claims to be issued in the future ({_when(claims.get('iat'))})",
                                       hint="check the clocks of the issuer and this host")
        if isinstance(exc, jwt.InvalidAudienceError):
            return AuthenticationError(f"wrong audience: the token is for {_short(claims.get('aud'))}, this service "
                                       f"accepts {cfg.audience!r}",
                                       hint=f"request the token for client/audience {cfg.audience!r}")
        if isinstance(exc, jwt.InvalidIssuerError):
            return AuthenticationError(f"wrong issuer: the token is from {_short(claims.get('iss'))}, this service "
                                       f"trusts {cfg.issuer_url!r}", hint=f"get the token from {cfg.issuer_url}")
        if isinstance(exc, jwt.MissingRequiredClaimError):
            return AuthenticationError(f"the token has no {exc.claim!r} claim (required: exp, iss, aud, sub)",
                                       hint=_HINT)
        return AuthenticationError(f"the token is malformed: {type(exc).__name__}", hint=_HINT)

    # -- keys --------------------------------------------------------------------------------------
    def _key(self, kid: str | None, alg: str) -> jwt.PyJWK:
        keys = self._jwks(refresh=False)
        found = _pick(keys, kid, alg)
        if found is None and time.monotonic() - self._fetched_at >= self.jwks_refresh_seconds:
            found = _pick(self._jwks(refresh=True), kid, alg)  # the issuer may have rotated its keys
        if found is None:
            known = ", ".join(repr(k.get("kid")) for k in self._keys or []) or "none"
            raise AuthenticationError(
                f"the token is signed with an unknown key (kid {str(kid)[:64]!r}, {alg}); the issuer's key set "
                f"{self._jwks_uri} has kids {known}", hint="get a token from the configured issuer "
                f"{self._config().issuer_url}")
        if found.get("alg", alg) != alg:
            raise AuthenticationError(f"the token says it is signed with {alg}, but the issuer's key {kid!r} is for "
                                      f"{found.get('alg')}", hint=_HINT)
        import jwt

        try:
            return jwt.PyJWK(found, algorithm=alg)
        except jwt.PyJWTError as exc:
            raise AuthenticationError(f"the issuer's key {found.get('kid')!r} ({found.get('kty')}) cannot verify "
                                      f"{alg}: {exc}", hint=_HINT) from None

    def _jwks(self, *, refresh: bool) -> list[dict[str, Any]]:
        with self._lock:
            stale = time.monotonic() - self._fetched_at > self.jwks_max_age_seconds
            if self._keys is None or refresh or stale:
                if self._jwks_uri is None:
                    self._jwks_uri = self._discover()
                body = self._get_json(self._jwks_uri, "key set (JWKS)")
                keys = body.get("keys") if isinstance(body, dict) else None
                if not isinstance(keys, list):
                    raise ServiceUnavailableError(f"the issuer's key set {self._jwks_uri} has no 'keys' list",
                                                  hint="check jwks_uri in the issuer's discovery document")
                self._keys = [k for k in keys if isinstance(k, dict)]
                self._fetched_at = time.monotonic()
            return self._keys

    def _discover(self) -> str:
        cfg = self._config()
        doc = self._get_json(self._discovery_url(), "discovery document")
        issuer, jwks_uri = doc.get("issuer"), doc.get("jwks_uri")
        if not isinstance(issuer, str) or issuer.rstrip("/") != cfg.issuer_url.rstrip("/"):
            raise ServiceUnavailableError(
                f"the discovery document of {cfg.issuer_url} names issuer {_short(issuer)}",
                hint="set plugins.identity.issuer_url to the issuer exactly as it names itself")
        if not isinstance(jwks_uri, str) or not jwks_uri.startswith(("https://", "http://")):
            raise ServiceUnavailableError(f"the discovery document of {cfg.issuer_url} has no jwks_uri",
                                          hint="the issuer must publish its signing keys")
        return jwks_uri

    def _get_json(self, url: str, what: str) -> dict[str, Any]:
        import httpx

        try:
            resp = httpx.get(url, timeout=self.http_timeout_seconds, follow_redirects=True)
            resp.raise_for_status()
            body = resp.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ServiceUnavailableError(f"the identity provider's {what} could not be read: GET {url}: "
                                          f"{type(exc).__name__}: {exc}",
                                          hint="check that the issuer is up and plugins.identity.issuer_url") from None
        if not isinstance(body, dict):
            raise ServiceUnavailableError(f"the identity provider's {what} at {url} is not a JSON object")
        return body

    def _discovery_url(self) -> str:
        return self._config().issuer_url.rstrip("/") + "/.well-known/openid-configuration"

    def _config(self) -> OidcIdentityConfig:
        if self.config is None:
            raise PluginConfigurationError("is not configured", plugin=self.name, version=self.version,
                                           hint="set plugins.identity: {type: oidc, issuer_url: ..., audience: ...}")
        return self.config


def _pick(keys: list[dict[str, Any]], kid: str | None, alg: str) -> dict[str, Any] | None:
    """The signing key a token names; without a kid, the one signing key that fits its algorithm."""
    signing = [k for k in keys if k.get("use", "sig") == "sig"]
    if kid is not None:
        return next((k for k in signing if k.get("kid") == kid), None)
    fitting = [k for k in signing if k.get("alg", alg) == alg]
    return fitting[0] if len(fitting) == 1 else None


def _unverified_claims(raw: str) -> dict[str, Any]:
    import jwt

    try:
        claims: dict[str, Any] = jwt.decode(raw, options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}
    return claims


def _when(value: Any) -> str:
    if not isinstance(value, int | float):
        return "an unknown time"
    at = dt.datetime.fromtimestamp(value, tz=dt.UTC)
    ago = time.time() - value
    rel = f"{abs(ago):.0f} s {'ago' if ago >= 0 else 'from now'}"
    return f"{at:%Y-%m-%dT%H:%M:%SZ}, {rel}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
