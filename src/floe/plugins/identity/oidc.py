from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import SecretStr

from floe.config._base import Url
from floe.config.plugins import PluginConfig
from floe.errors import AuthenticationError
from floe.plugins._http import http_ok
from floe.plugins.base import HealthStatus
from floe.plugins.interfaces import IdentityPlugin


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

    def validate_token(self, token: SecretStr) -> dict[str, Any]:
        raise AuthenticationError("OIDC token validation needs a configured issuer",
                                  hint="set plugins.identity.issuer_url in manifest.yaml")

    def health_check(self, timeout: float = 5.0) -> HealthStatus:
        if self.config is None:
            return self.not_configured()
        return http_ok(self.config.issuer_url.rstrip("/") + "/.well-known/openid-configuration", timeout)
