"""JSON Schema export for the three contracts."""

from __future__ import annotations

from typing import Any

from floe.errors import ConfigError


def json_schema(which: str) -> dict[str, Any]:
    from pydantic import BaseModel

    from floe.compiler.artifacts import CompiledArtifacts
    from floe.config.manifest import PlatformManifest
    from floe.config.spec import FloeSpec

    models: dict[str, type[BaseModel]] = {
        "manifest": PlatformManifest, "floe": FloeSpec, "artifacts": CompiledArtifacts}
    model = models.get(which)
    if model is None:
        raise ConfigError("unknown schema", key="which", value=which, allowed=", ".join(models),
                          hint="e.g. `floe schema manifest > manifest.schema.json`")
    schema: dict[str, Any] = model.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://floe.dev/schemas/{which}.json"
    return schema
