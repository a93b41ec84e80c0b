"""JSON Schema export for the three contracts; the manifest's plugin slots come from the registry."""

from __future__ import annotations

from typing import Any

from floe.config.plugins import PluginConfig
from floe.errors import ConfigError
from floe.plugins.registry import PluginRegistry, get_registry

_BASE_REF = "#/$defs/PluginConfig"


def json_schema(which: str, registry: PluginRegistry | None = None) -> dict[str, Any]:
    """The JSON Schema of ``manifest``, ``floe`` or ``artifacts``.

    In the manifest's schema each plugin slot is one of the config models of the plugins installed now
    (third-party packages included), told apart by ``type``.

    Raises:
        ConfigError: ``which`` names no schema.
    """
    from pydantic import BaseModel

    from floe.config.manifest import PlatformManifest
    from floe.config.spec import FloeSpec
    from floe.contract import CompiledArtifacts

    models: dict[str, type[BaseModel]] = {
        "manifest": PlatformManifest, "floe": FloeSpec, "artifacts": CompiledArtifacts}
    model = models.get(which)
    if model is None:
        raise ConfigError("unknown schema", key="which", value=which, allowed=", ".join(models),
                          hint="e.g. `floe schema manifest > manifest.schema.json`")
    schema: dict[str, Any] = model.model_json_schema(by_alias=True)
    if which == "manifest":
        _plugin_slots(schema, registry or get_registry())
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://floe.dev/schemas/{which}.json"
    return schema


def _plugin_slots(schema: dict[str, Any], registry: PluginRegistry) -> None:
    defs: dict[str, Any] = schema["$defs"]
    slots = defs["PluginsConfig"]["properties"]
    for slot, prop in slots.items():
        choices = [_config_schema(registry, slot, name, defs) for name in registry.type_names(slot)]
        slots[slot] = _replace_ref(prop, {"oneOf": choices} if choices else {"not": {}})
    defs.pop("PluginConfig", None)


def _config_schema(registry: PluginRegistry, slot: str, name: str, defs: dict[str, Any]) -> dict[str, Any]:
    model = registry.config_model(slot, name)
    if model is None or model is PluginConfig:  # a plugin that takes no settings
        return {"type": "object", "title": name, "additionalProperties": False, "required": ["type"],
                "properties": {"type": {"const": name}}}
    one = model.model_json_schema(by_alias=True, ref_template="#/$defs/{model}")
    defs.update(one.pop("$defs", {}))
    one["properties"]["type"] = {"const": name}
    return one


def _replace_ref(node: Any, union: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if node.get("$ref") == _BASE_REF:
            return {**{k: v for k, v in node.items() if k != "$ref"}, **union}
        return {k: _replace_ref(v, union) for k, v in node.items()}
    if isinstance(node, list):
        return [_replace_ref(v, union) for v in node]
    return node
