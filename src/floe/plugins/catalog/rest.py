"""Iceberg REST catalogs: Apache Polaris, and any generic Iceberg REST server."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self
from urllib.parse import urlparse

from floe._iceberg import StagedTable, commit_rest_transaction
from floe.config._base import SecretRef, Url
from floe.config.plugins import PluginConfig, ProductPrincipal
from floe.plugins._http import tcp_reachable
from floe.plugins.base import HealthState, HealthStatus
from floe.plugins.interfaces import CatalogPlugin, SecretResolver


class _RestCatalogConfig(PluginConfig):
    """What both REST catalogs share: OAuth2 client credentials, optionally one pair per product."""

    if TYPE_CHECKING:  # fields of the subclasses, declared there to keep their order
        uri: str
        warehouse: str
        client_id: SecretRef
        client_secret: SecretRef
        principals: str

    @property
    def product_principals(self) -> bool:
        return self.principals == "per-product"

    def chart_values(self) -> dict[str, Any]:
        # on Kubernetes the chart runs Polaris; its catalog is named like this warehouse
        return {"polaris": {"catalog": {"name": self.warehouse}}}

    def for_product(self, principal: ProductPrincipal) -> Self:
        if not self.product_principals:
            return self
        return self.model_copy(update={"client_id": principal.client_id, "client_secret": principal.client_secret})


class IcebergRestCatalogConfig(_RestCatalogConfig):
    type: Literal["iceberg-rest"]
    uri: Url
    warehouse: str
    client_id: SecretRef
    client_secret: SecretRef
    oauth2_token_path: str = "v1/oauth/tokens"  # noqa: S105 - a URL path, not a password
    principals: Literal["shared", "per-product"] = "shared"
    """shared: every product uses client_id/client_secret. per-product: each product runs as its own
    principal (``env:FLOE_PRODUCT_<PRODUCT>_CLIENT_ID``/``_CLIENT_SECRET``), granted only its
    ``<product>_raw`` and ``<product>`` namespaces; client_id/client_secret stay the platform's."""


class PolarisCatalogConfig(_RestCatalogConfig):
    type: Literal["polaris"]
    uri: Url
    """Iceberg REST base, e.g. http://127.0.0.1:8181/api/catalog"""
    management_uri: Url | None = None
    warehouse: str
    client_id: SecretRef
    client_secret: SecretRef
    scope: str = "PRINCIPAL_ROLE:ALL"
    principals: Literal["shared", "per-product"] = "shared"
    """shared: every product uses client_id/client_secret. per-product: each product runs as its own
    principal (``env:FLOE_PRODUCT_<PRODUCT>_CLIENT_ID``/``_CLIENT_SECRET``), granted only its
    ``<product>_raw`` and ``<product>`` namespaces; client_id/client_secret stay the platform's."""


CLIENT_ID_ENV = "FLOE_CATALOG_CLIENT_ID"
CLIENT_SECRET_ENV = "FLOE_CATALOG_CLIENT_SECRET"  # noqa: S105  # pragma: allowlist secret - a variable name
"""What the generated dbt profile reads the catalog's client credentials from (see ``run_env``)."""


class _OAuthCatalogPlugin(CatalogPlugin):
    config: _RestCatalogConfig | None

    def endpoint(self) -> str | None:
        return self.config.uri if self.config is not None else None

    def commit_tables(self, catalog: Any, staged: Sequence[StagedTable]) -> None:
        """The Iceberg REST multi-table commit (all of a run's tables or none); a catalog without that
        endpoint gets the default, one table at a time with set-back on failure."""
        if not commit_rest_transaction(catalog, staged):
            super().commit_tables(catalog, staged)

    def run_env(self, resolve: SecretResolver) -> dict[str, str]:
        if self.config is None:
            return {}
        return {CLIENT_ID_ENV: resolve(self.config.client_id), CLIENT_SECRET_ENV: resolve(self.config.client_secret)}


def _duckdb_attach(uri: str, warehouse: str, token_url: str, scope: str | None) -> dict[str, Any]:
    secret: dict[str, Any] = {
        "type": "iceberg",
        "name": "floe_catalog",
        "client_id": f"{{{{ env_var('{CLIENT_ID_ENV}') }}}}",
        "client_secret": f"{{{{ env_var('{CLIENT_SECRET_ENV}') }}}}",
        "oauth2_server_uri": token_url,
    }
    if scope:
        secret["oauth2_scope"] = scope
    return {
        "secrets": [secret],
        "attach": {
            "path": warehouse,
            "alias": "lake",
            "type": "iceberg",
            "options": {"endpoint": uri, "secret": "floe_catalog", "access_delegation_mode": "none"},
        },
    }


def rest_client(uri: str, client_id: str, client_secret: str, *, token_path: str = "v1/oauth/tokens",  # noqa: S107 - a URL path
                scope: str | None = None, timeout: float = 10, base_path: str = "") -> Any:
    """An httpx client for an Iceberg REST catalog, authenticated with OAuth2 client credentials
    (the bearer token in its headers). ``base_path`` is appended to ``uri`` (e.g. ``v1/<warehouse>``).

    Raises ``AuthenticationError`` when the token request is refused and ``ServiceUnavailableError``
    when the catalog cannot be reached; the secret never appears in either message.
    """
    import httpx

    from floe.errors import AuthenticationError, ServiceUnavailableError

    base = uri.rstrip("/")
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
    if scope:
        form["scope"] = scope
    try:
        token = httpx.post(f"{base}/{token_path.lstrip('/')}", data=form, timeout=timeout)
    except httpx.HTTPError as exc:
        raise ServiceUnavailableError(f"catalog {base}: {type(exc).__name__}",
                                      hint="is the catalog running? `floe platform status`") from None
    if token.status_code != 200:
        raise AuthenticationError(f"catalog {base}: the token request for client {client_id!r} answered "
                                  f"HTTP {token.status_code}",
                                  hint="check the catalog credentials the manifest references")
    root = f"{base}/{base_path.strip('/')}" if base_path else base
    return httpx.Client(base_url=root, timeout=timeout,
                        headers={"Authorization": f"Bearer {token.json()['access_token']}"})


def authenticated_check(uri: str, warehouse: str, client_id: Any, client_secret: Any, token_path: str,
                        timeout: float, scope: str | None = None) -> HealthStatus:
    import httpx

    from floe.errors import AuthenticationError, ConfigError, ServiceUnavailableError
    from floe.plugins.secrets.env import EnvSecretsPlugin

    secrets = EnvSecretsPlugin()
    try:
        cid = secrets.get_secret(client_id).get_secret_value()
        csecret = secrets.get_secret(client_secret).get_secret_value()
    except ConfigError as exc:
        return HealthStatus(HealthState.UNHEALTHY, f"credentials unavailable: {exc.message}")
    base = uri.rstrip("/")
    try:
        with rest_client(uri, cid, csecret, token_path=token_path, scope=scope, timeout=min(timeout, 4)) as c:
            cfg = c.get("/v1/config", params={"warehouse": warehouse})
    except AuthenticationError as exc:
        return HealthStatus(HealthState.UNHEALTHY, f"authentication failed: {exc.message}")
    except ServiceUnavailableError as exc:
        return HealthStatus(HealthState.UNHEALTHY, exc.message)
    except httpx.HTTPError as exc:
        return HealthStatus(HealthState.UNHEALTHY, f"{base}: {type(exc).__name__}")
    if cfg.status_code != 200:
        return HealthStatus(HealthState.UNHEALTHY, f"warehouse {warehouse}: HTTP {cfg.status_code}")
    return HealthStatus(HealthState.HEALTHY, f"authenticated; warehouse {warehouse} reachable")


class PolarisCatalogPlugin(_OAuthCatalogPlugin):
    name: ClassVar[str] = "polaris"
    description: ClassVar[str] = "Apache Polaris (Iceberg REST + management API)"
    config_model = PolarisCatalogConfig
    config: PolarisCatalogConfig | None

    def _cfg(self) -> PolarisCatalogConfig:
        assert self.config is not None, "polaris catalog used without configuration"
        return self.config

    def pyiceberg_properties(self, resolve: SecretResolver, warehouse_root: str) -> dict[str, str]:
        cfg = self._cfg()
        return {
            "type": "rest",
            "uri": cfg.uri,
            "warehouse": cfg.warehouse,
            "credential": f"{resolve(cfg.client_id)}:{resolve(cfg.client_secret)}",
            "scope": cfg.scope,
            "oauth2-server-uri": f"{cfg.uri.rstrip('/')}/v1/oauth/tokens",
        }

    def duckdb_attach(self, warehouse_root: str) -> dict[str, Any] | None:
        cfg = self._cfg()
        return _duckdb_attach(cfg.uri, cfg.warehouse, cfg.uri.rstrip("/") + "/v1/oauth/tokens", cfg.scope)

    def health_check(self, timeout: float = 5.0) -> HealthStatus:
        if self.config is None:
            return self.not_configured()
        status = tcp_reachable(self.config.uri, timeout)
        if not status.ok:
            return status
        # Polaris answers 401 on /v1/config without a token (seed 15-FR-015): authenticate first.
        return authenticated_check(self.config.uri, self.config.warehouse, self.config.client_id,
                                   self.config.client_secret, "v1/oauth/tokens", timeout, self.config.scope)


class IcebergRestCatalogPlugin(_OAuthCatalogPlugin):
    name: ClassVar[str] = "iceberg-rest"
    description: ClassVar[str] = "any Iceberg REST catalog with OAuth2 client credentials"
    config_model = IcebergRestCatalogConfig
    config: IcebergRestCatalogConfig | None

    def served_by_storage(self) -> str | None:
        # a generic Iceberg REST endpoint on this machine is the one the local object store serves
        # (SeaweedFS; Polaris, which runs as its own service, cannot be built here)
        if self.config is None or urlparse(self.config.uri).hostname not in {"127.0.0.1", "localhost"}:
            return None
        return self.config.warehouse

    def pyiceberg_properties(self, resolve: SecretResolver, warehouse_root: str) -> dict[str, str]:
        cfg = self.config
        assert cfg is not None
        return {
            "type": "rest",
            "uri": cfg.uri,
            "warehouse": cfg.warehouse,
            "credential": f"{resolve(cfg.client_id)}:{resolve(cfg.client_secret)}",
            "oauth2-server-uri": f"{cfg.uri.rstrip('/')}/{cfg.oauth2_token_path}",
        }

    def duckdb_attach(self, warehouse_root: str) -> dict[str, Any] | None:
        cfg = self.config
        assert cfg is not None
        return _duckdb_attach(cfg.uri, cfg.warehouse, f"{cfg.uri.rstrip('/')}/{cfg.oauth2_token_path}", None)

    def health_check(self, timeout: float = 5.0) -> HealthStatus:
        """Authenticate (OAuth2 client credentials) and read the warehouse's catalog config."""
        if self.config is None:
            return self.not_configured()
        status = tcp_reachable(self.config.uri, timeout)
        if not status.ok:
            return HealthStatus(HealthState.UNHEALTHY, status.message)
        return authenticated_check(self.config.uri, self.config.warehouse, self.config.client_id,
                                   self.config.client_secret, self.config.oauth2_token_path, timeout)
