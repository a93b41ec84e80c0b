"""What every plugin is: a named, versioned implementation with a config model and a health check."""

from __future__ import annotations

from abc import ABC
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel

from floe.config.plugins import PluginConfig
from floe.plugins.types import PluginType

if TYPE_CHECKING:
    from collections.abc import Sequence

    from floe.contract import CompiledArtifacts
    from floe.plugins.local import LocalPlatform, ServiceSpec, StepResult

FLOE_PLUGIN_API_VERSION = "1.0"


class HealthState(str, Enum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"
    NOT_CONFIGURED = "not_configured"


@dataclass(frozen=True)
class HealthStatus:
    state: HealthState
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.state in (HealthState.HEALTHY, HealthState.DEGRADED)


class FloePlugin(ABC):
    """Base of every plugin ABC.

    A plugin class declares ``name``, ``version``, ``floe_api_version`` and ``config_model`` as class
    attributes and is instantiated with its validated config, or with ``None`` when the manifest does
    not configure it (it must still answer ``health_check``).
    """

    plugin_type: ClassVar[PluginType]
    name: ClassVar[str]
    version: ClassVar[str] = "0.1.0"
    floe_api_version: ClassVar[str] = FLOE_PLUGIN_API_VERSION
    description: ClassVar[str] = ""
    config_model: ClassVar[type[PluginConfig] | None] = None

    def __init__(self, config: BaseModel | None = None) -> None:
        self.config = config

    @property
    def configured(self) -> bool:
        return self.config is not None

    def describe(self) -> str:
        """How messages name this configured plugin (no secrets: e.g. a URL without its path)."""
        return self.name

    def health_check(self, timeout: float = 5.0) -> HealthStatus:
        """Report whether the plugin can do its job now. Must return within ``timeout``, never raise."""
        if not self.configured:
            return HealthStatus(HealthState.NOT_CONFIGURED, f"{self.name} is not configured in the manifest")
        return HealthStatus(HealthState.HEALTHY, "no external dependency")

    def local_services(self, platform: LocalPlatform) -> list[ServiceSpec]:
        """The processes this plugin needs on the local platform (``floe platform up`` runs them).

        Args:
            platform: the platform's folders, secrets, deployed products and the other plugins.

        Returns:
            Services in start order; ``depends_on`` may name services other plugins run. Building them
            has no side effects: their ``prepare`` runs when the supervisor starts them.
        """
        return []

    def bootstrap(self, platform: LocalPlatform) -> list[StepResult]:
        """Create, then read back, what this plugin needs once the local services are healthy (buckets,
        warehouses, grants). Idempotent: a second call changes nothing and says "already present".

        Raises:
            BootstrapError: naming the failed step and why.
        """
        return []

    def deploy_values(self, products: Sequence[CompiledArtifacts]) -> dict[str, Any]:
        """Helm chart values this plugin adds when the platform deploys to Kubernetes with these compiled
        products (merged over the values files; e.g. the rbac plugin's per-product objects and grants,
        the semantic layer's generated model)."""
        return {}

    def not_configured(self) -> HealthStatus:
        return HealthStatus(HealthState.NOT_CONFIGURED, f"{self.name} is not configured in the manifest")
