"""Iceberg REST catalogs: Apache Polaris, and any generic Iceberg REST server."""

from __future__ import annotations

from typing import Any, ClassVar

from floe.config.plugins import IcebergRestCatalogConfig, PolarisCatalogConfig
from floe.plugins._http import tcp_reachable
from floe.plugins.base import HealthState, HealthStatus
from floe.plugins.interfaces import CatalogPlugin, SecretResolver


def _duckdb_attach(uri: str, warehouse: str, token_url: str, scope: str | None) -> dict[str, Any]:
    secret: dict[str, Any] = {
        "type": "iceberg",
        "name": "floe_catalog",
        "client_id": "{{ env_var('FLOE_CATALOG_CLIENT_ID') }}",
        "client_secret": "{{ env_var('FLOE_CATALOG_CLIENT_SECRET') }}",
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


class PolarisCatalogPlugin(CatalogPlugin):
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
        }

    def duckdb_attach(self, warehouse_root: str) -> dict[str, Any] | None:
        cfg = self._cfg()
        return _duckdb_attach(cfg.uri, cfg.warehouse, cfg.uri.rstrip("/") + "/v1/oauth/tokens", cfg.scope)

    def health_check(self, timeout: float = 5.0) -> HealthStatus:
        if self.config is None:
            return self.not_configured()
        return tcp_reachable(self.config.uri, timeout)


class IcebergRestCatalogPlugin(CatalogPlugin):
    name: ClassVar[str] = "iceberg-rest"
    description: ClassVar[str] = "any Iceberg REST catalog with OAuth2 client credentials"
    config_model = IcebergRestCatalogConfig
    config: IcebergRestCatalogConfig | None

    def pyiceberg_properties(self, resolve: SecretResolver, warehouse_root: str) -> dict[str, str]:
        cfg = self.config
        assert cfg is not None
        return {
            "type": "rest",
            "uri": cfg.uri,
            "warehouse": cfg.warehouse,
            "credential": f"{resolve(cfg.client_id)}:{resolve(cfg.client_secret)}",
        }

    def duckdb_attach(self, warehouse_root: str) -> dict[str, Any] | None:
        cfg = self.config
        assert cfg is not None
        return _duckdb_attach(cfg.uri, cfg.warehouse, f"{cfg.uri.rstrip('/')}/{cfg.oauth2_token_path}", None)

    def health_check(self, timeout: float = 5.0) -> HealthStatus:
        if self.config is None:
            return self.not_configured()
        status = tcp_reachable(self.config.uri, timeout)
        return status if status.ok else HealthStatus(HealthState.UNHEALTHY, status.message)
