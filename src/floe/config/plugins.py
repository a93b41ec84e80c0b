"""The ``plugins:`` section of manifest.yaml: one slot per plugin type, each ``{type: ..., ...}``.

The manifest knows only a slot's ``type``. The plugin registered under that type (builtin or from a
third-party package) owns the rest: its ``config_model``, a subclass of :class:`PluginConfig`,
validates the slot. Validation asks a :class:`PluginConfigSource` (the plugin registry) for that
model, passed in pydantic's validation context, so this package never names a backend.
"""

from __future__ import annotations

from typing import Annotated, Any, Protocol, Self

from pydantic import Field, SerializeAsAny, ValidationInfo, ValidatorFunctionWrapHandler, WrapValidator, model_validator
from pydantic_core import PydanticCustomError

from floe.config._base import SecretRef
from floe.contract import FloeModel

CONTEXT_KEY = "floe.plugin_configs"
"""Validation-context key under which the loader passes the :class:`PluginConfigSource`."""


class ProductPrincipal(FloeModel):
    """The credentials one data product runs with on a platform that gives each product its own."""

    product: str
    client_id: SecretRef
    client_secret: SecretRef


class PluginConfig(FloeModel):
    """Base of every plugin's configuration model.

    A plugin declares ``config_model = MyConfig`` where ``MyConfig(PluginConfig)`` narrows ``type`` to
    its own name (``type: Literal["glue"]``) and adds its settings; secrets are :class:`SecretRef`.
    The methods below answer, for the whole stack, what only the backend knows; their defaults say
    "nothing special".
    """

    type: str

    @property
    def product_principals(self) -> bool:
        """True when this backend gives every data product its own principal (catalog plugins)."""
        return False

    def for_product(self, principal: ProductPrincipal) -> Self:
        """This config as ``principal.product`` uses it (its own credentials where it has some)."""
        return self

    def local_paths(self) -> dict[str, str]:
        """Paths (key -> value) runs write to on this machine; relative ones resolve from the manifest's
        folder and must stay inside it (the compiler checks). Absolute ones are the platform's choice."""
        return {}

    def chart_values(self) -> dict[str, Any]:
        """Values of floe's Helm chart that this setting decides on Kubernetes (merged into the
        values `floe deploy` passes; the chart's own endpoints stay the cluster's)."""
        return {}

    def check_stack(self, plugins: PluginsConfig) -> None:
        """Refuse combinations with the other slots that cannot run; raise ``ValueError`` saying why."""


class PluginConfigSource(Protocol):
    """Where slot configs come from: the plugin registry, in practice."""

    def config_model(self, slot: str, type_name: str) -> type[PluginConfig] | None:
        """The config model of the ``slot`` plugin named ``type_name``; None if none is installed."""

    def type_names(self, slot: str) -> list[str]:
        """Every installed plugin name for ``slot`` (for error messages)."""


def _resolve_slot(value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
    if value is None or isinstance(value, PluginConfig) or not isinstance(value, dict):
        return handler(value)
    slot = info.field_name or ""
    source: PluginConfigSource | None = (info.context or {}).get(CONTEXT_KEY)
    if source is None:
        raise PydanticCustomError(
            "floe_no_registry", "plugin slots are validated by the plugin registry: load manifests with "
                                "floe.plugins.load_manifest (or pass it in the validation context)")
    if "type" not in value:
        raise PydanticCustomError("union_tag_not_found", "plugin `type` is missing", {"discriminator": "'type'"})
    type_name = value["type"]
    model = source.config_model(slot, type_name) if isinstance(type_name, str) else None
    if model is None:
        allowed = ", ".join(repr(n) for n in source.type_names(slot))
        raise PydanticCustomError("union_tag_invalid", "unknown plugin type {tag!r}",
                                  {"tag": type_name, "expected_tags": allowed, "discriminator": "'type'"})
    return model.model_validate(value, context=info.context)


Slot = Annotated[SerializeAsAny[PluginConfig], WrapValidator(_resolve_slot)]
"""One plugin slot: validated by the config model of the plugin its ``type`` names."""


class PluginsConfig(FloeModel):
    """The stack. Swap any piece by changing its ``type`` here; nothing else changes."""

    compute: Slot
    orchestrator: Slot
    catalog: Slot
    storage: Slot
    dbt: Slot = Field(default_factory=lambda: {"type": "core"}, validate_default=True)
    secrets: Slot = Field(default_factory=lambda: {"type": "env"}, validate_default=True)
    telemetry_backend: Slot | None = None
    lineage_backend: Slot | None = None
    semantic_layer: Slot | None = None
    ingestion: Slot | None = None
    quality: Slot | None = None
    rbac: Slot | None = None
    alert_channels: list[Slot] = Field(default_factory=list)
    identity: Slot | None = None

    def configured(self) -> list[tuple[str, PluginConfig]]:
        """(slot, config) of every configured plugin, alert channels one by one."""
        out: list[tuple[str, PluginConfig]] = []
        for slot in type(self).model_fields:
            value = getattr(self, slot)
            for cfg in value if isinstance(value, list) else [value]:
                if cfg is not None:
                    out.append((slot, cfg))
        return out

    @property
    def product_principals(self) -> bool:
        """True when some plugin gives every data product its own principal."""
        return any(cfg.product_principals for _, cfg in self.configured())

    def for_product(self, principal: ProductPrincipal) -> PluginsConfig:
        """The stack as one data product sees it: each plugin's config scoped to its principal."""
        update: dict[str, Any] = {}
        for slot in type(self).model_fields:
            value = getattr(self, slot)
            if isinstance(value, list):
                update[slot] = [cfg.for_product(principal) for cfg in value]
            elif value is not None:
                update[slot] = value.for_product(principal)
        return self.model_copy(update=update)

    @model_validator(mode="after")
    def _stack_is_runnable(self) -> PluginsConfig:
        for _, cfg in self.configured():
            cfg.check_stack(self)
        return self
