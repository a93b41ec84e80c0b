"""One shared bearer token, kept by the secrets plugin: the identity of the local platform's services."""

from __future__ import annotations

import hmac
from typing import Any, ClassVar, Literal, Self

from pydantic import SecretStr

from floe.config._base import SecretRef
from floe.config.plugins import PluginConfig
from floe.errors import AuthenticationError, ConfigError, PluginConfigurationError
from floe.plugins.base import HealthState, HealthStatus
from floe.plugins.interfaces import IdentityPlugin, SecretResolver


class StaticTokenIdentityConfig(PluginConfig):
    """``identity: {type: static-token, token: env:FLOE_SEMANTIC_TOKEN}``."""

    type: Literal["static-token"]
    token: SecretRef
    """Where the token lives (``env:NAME``, ``file:/path``, ``k8s:secret/key``); resolved by the
    secrets plugin when the service starts, never written to artifacts or logs."""
    subject: str = "static-token"
    """The ``sub`` claim callers presenting the token get."""


class StaticTokenIdentityPlugin(IdentityPlugin):
    """Every caller presenting the one configured token is the same principal."""

    name: ClassVar[str] = "static-token"
    description: ClassVar[str] = "One shared bearer token from a secret reference"
    config_model = StaticTokenIdentityConfig
    config: StaticTokenIdentityConfig | None
    _token: SecretStr | None = None

    def bind(self, resolve: SecretResolver) -> Self:
        """Resolve the token reference now, so a missing or empty secret fails at service start."""
        cfg = self._config()
        value = resolve(cfg.token)
        if not value:
            raise ConfigError(f"secret {cfg.token} is empty", key="plugins.identity.token",
                              hint=f"give {cfg.token} a value (the local platform generates it in "
                                   "$FLOE_HOME/secrets.env)")
        self._token = SecretStr(value)
        return super().bind(resolve)

    def validate_token(self, token: SecretStr) -> dict[str, Any]:
        cfg = self._config()
        if self._token is None:
            raise PluginConfigurationError("validate_token before bind(): the token reference is not resolved",
                                           plugin=self.name, version=self.version,
                                           hint="call plugin.bind(SecretResolver(secrets_plugin)) first")
        # constant time: how long the comparison takes says nothing about how much of the token matched
        if not hmac.compare_digest(token.get_secret_value().encode(), self._token.get_secret_value().encode()):
            raise AuthenticationError("wrong bearer token: it is not the one configured for this service",
                                      hint=f"send the value of {cfg.token} as `Authorization: Bearer <token>`")
        return {"sub": cfg.subject}

    def health_check(self, timeout: float = 5.0) -> HealthStatus:
        if self.config is None:
            return self.not_configured()
        return HealthStatus(HealthState.HEALTHY, f"token from {self.config.token}, resolved when a service starts")

    def _config(self) -> StaticTokenIdentityConfig:
        if self.config is None:
            raise PluginConfigurationError("is not configured", plugin=self.name, version=self.version,
                                           hint="set plugins.identity: {type: static-token, token: env:NAME}")
        return self.config
