"""manifest.yaml: what the platform team declares once."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from floe.config._base import ProductName, SemVer
from floe.config.artifacts import ArtifactsConfig
from floe.config.governance import GovernanceConfig
from floe.config.plugins import PluginsConfig
from floe.contract import FloeModel


class ManifestMetadata(FloeModel):
    name: ProductName
    version: SemVer
    owner: str
    description: str = ""


class Approvals(FloeModel):
    """Which implementations data products may pick per transform (default: only the manifest's)."""

    compute: list[str] = Field(default_factory=list)


class LocalPlatformConfig(FloeModel):
    """Settings of `floe platform` that no plugin URL already says (ports of the plugins' services
    come from their URLs in ``plugins``)."""

    registry_port: int = Field(default=5050, ge=1024, le=65535)
    start_timeout_seconds: int = Field(default=600, ge=10)
    products: list[str] = Field(default_factory=lambda: ["*/floe.yaml"])
    """Globs (relative to the manifest) of the products the platform's Dagster loads."""


class PlatformManifest(FloeModel):
    api_version: Literal["floe.dev/v1"] = Field(alias="apiVersion")
    kind: Literal["Manifest"]
    metadata: ManifestMetadata
    plugins: PluginsConfig
    approved: Approvals = Field(default_factory=Approvals)
    governance: GovernanceConfig = Field(default_factory=GovernanceConfig)
    platform: LocalPlatformConfig = Field(default_factory=LocalPlatformConfig)
    artifacts: ArtifactsConfig = Field(default_factory=ArtifactsConfig)

    @field_validator("approved")
    @classmethod
    def _default_compute_is_approved(cls, approved: Approvals, info: ValidationInfo) -> Approvals:
        # a field validator (not a model one) so the error carries the key path approved.compute
        plugins = info.data.get("plugins")
        if plugins is not None and approved.compute and plugins.compute.type not in approved.compute:
            raise ValueError(
                f"plugins.compute.type {plugins.compute.type!r} is not in approved.compute {approved.compute}"
            )
        return approved

    @property
    def approved_compute(self) -> list[str]:
        return self.approved.compute or [self.plugins.compute.type]

    @property
    def registry_url(self) -> str:
        """``artifacts.registry.url``, else the local platform's registry."""
        return self.artifacts.registry.url or f"http://127.0.0.1:{self.platform.registry_port}"
