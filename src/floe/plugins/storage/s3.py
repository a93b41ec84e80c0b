from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Self
from urllib.parse import urlparse

from pydantic import Field

from floe.config._base import SecretRef, Url
from floe.config.plugins import PluginConfig, PluginsConfig, ProductPrincipal
from floe.plugins._http import tcp_reachable
from floe.plugins.base import HealthStatus
from floe.plugins.interfaces import SecretResolver, StoragePlugin
from floe.plugins.local import LocalPlatform, ServiceSpec, StepResult


class S3StorageConfig(PluginConfig):
    type: Literal["s3"]
    endpoint: Url
    bucket: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]
    region: str = "us-east-1"
    path_style_access: bool = True
    access_key_id: SecretRef
    secret_access_key: SecretRef
    access: Literal["platform", "product-principal"] = "platform"
    """Whose key a product's runs use for objects: ``platform`` (the keys above), or
    ``product-principal``: the product's own catalog principal, for stores where one identity serves
    both the catalog and S3 (SeaweedFS). Needs ``catalog.principals: per-product``. With a catalog that
    vends storage credentials (Polaris), keep ``platform`` and let the catalog scope them."""

    def for_product(self, principal: ProductPrincipal) -> Self:
        if self.access != "product-principal":
            return self
        return self.model_copy(update={"access_key_id": principal.client_id,
                                       "secret_access_key": principal.client_secret})

    def check_stack(self, plugins: PluginsConfig) -> None:
        if self.access == "product-principal" and not plugins.catalog.product_principals:
            raise ValueError("storage.access: product-principal needs catalog.principals: per-product "
                             "(a product can only use its own principal's key when it has one); set both, "
                             "or set storage.access: platform")


KEY_ID_ENV = "FLOE_S3_ACCESS_KEY_ID"
SECRET_KEY_ENV = "FLOE_S3_SECRET_ACCESS_KEY"  # noqa: S105  # pragma: allowlist secret - a variable name
"""What the generated dbt profile reads the S3 keys from (see ``run_env``)."""


class S3StoragePlugin(StoragePlugin):
    """Any S3-compatible object store (SeaweedFS locally, S3/MinIO elsewhere)."""

    name: ClassVar[str] = "s3"
    description: ClassVar[str] = "S3-compatible object storage"
    config_model = S3StorageConfig
    config: S3StorageConfig | None

    def _cfg(self) -> S3StorageConfig:
        assert self.config is not None, "s3 storage used without configuration"
        return self.config

    def warehouse_root(self, base_dir: Path) -> str:
        return f"s3://{self._cfg().bucket}"

    def fileio_properties(self, resolve: SecretResolver) -> dict[str, str]:
        cfg = self._cfg()
        return {
            "s3.endpoint": cfg.endpoint,
            "s3.region": cfg.region,
            "s3.path-style-access": str(cfg.path_style_access).lower(),
            "s3.access-key-id": resolve(cfg.access_key_id),
            "s3.secret-access-key": resolve(cfg.secret_access_key),
        }

    def dbt_secrets(self) -> list[dict[str, Any]]:
        cfg = self._cfg()
        endpoint = urlparse(cfg.endpoint)
        return [{
            "type": "s3",
            "name": "floe_s3",
            "key_id": f"{{{{ env_var('{KEY_ID_ENV}') }}}}",
            "secret": f"{{{{ env_var('{SECRET_KEY_ENV}') }}}}",
            "endpoint": endpoint.netloc,
            "url_style": "path" if cfg.path_style_access else "vhost",
            "use_ssl": endpoint.scheme == "https",
            "region": cfg.region,
        }]

    def run_env(self, resolve: SecretResolver) -> dict[str, str]:
        cfg = self._cfg()
        return {KEY_ID_ENV: resolve(cfg.access_key_id), SECRET_KEY_ENV: resolve(cfg.secret_access_key)}

    def local_services(self, platform: LocalPlatform) -> list[ServiceSpec]:
        # locally the S3 store is SeaweedFS, which also serves an Iceberg REST catalog that asks for it
        from floe.plugins.storage import seaweedfs

        return [seaweedfs.service(self._cfg(), platform)]

    def bootstrap(self, platform: LocalPlatform) -> list[StepResult]:
        from floe.plugins.storage import seaweedfs

        return seaweedfs.bootstrap(self._cfg(), platform)

    def health_check(self, timeout: float = 5.0) -> HealthStatus:
        if self.config is None:
            return self.not_configured()
        return tcp_reachable(self.config.endpoint, timeout)
