from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlparse

from floe.config.plugins import S3StorageConfig
from floe.plugins._http import tcp_reachable
from floe.plugins.base import HealthStatus
from floe.plugins.interfaces import SecretResolver, StoragePlugin


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
            "key_id": "{{ env_var('FLOE_S3_ACCESS_KEY_ID') }}",
            "secret": "{{ env_var('FLOE_S3_SECRET_ACCESS_KEY') }}",
            "endpoint": endpoint.netloc,
            "url_style": "path" if cfg.path_style_access else "vhost",
            "use_ssl": endpoint.scheme == "https",
            "region": cfg.region,
        }]

    def health_check(self, timeout: float = 5.0) -> HealthStatus:
        if self.config is None:
            return self.not_configured()
        return tcp_reachable(self.config.endpoint, timeout)
