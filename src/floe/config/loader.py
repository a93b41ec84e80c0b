"""YAML -> typed config, with errors that name the file, the key, the value and the fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from floe.errors import ConfigError, ConfigErrors

M = TypeVar("M", bound=BaseModel)

# Keys a data team must never put in floe.yaml: they belong to the platform (manifest.yaml).
_INFRA_KEYS = {
    "database", "schema", "host", "port", "username", "password", "credentials", "connection_string",
    "endpoint", "access_key", "secret_key", "token", "api_key",
}


def read_yaml(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise ConfigError(
            "file not found", file=path, hint=f"create it, or pass the right path (cwd is {Path.cwd()})"
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        raise ConfigError(f"invalid YAML at {where}: {getattr(exc, 'problem', exc)}", file=path,
                          hint="fix the YAML syntax (indentation, quotes, colons)") from exc
    if not isinstance(data, dict):
        raise ConfigError("the document must be a mapping", file=path, value=type(data).__name__,
                          allowed="a YAML mapping with apiVersion, kind, metadata ...")
    return data


def load_model(path: Path, model: type[M], *, forbid_infra_keys: bool = False) -> M:
    """Read ``path`` and validate it into ``model``; every problem is reported at once."""
    data = read_yaml(path)
    if forbid_infra_keys:
        _check_infra_keys(path, data)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _to_config_errors(path, exc, model) from exc


def _check_infra_keys(path: Path, data: Any, trail: str = "") -> None:
    if isinstance(data, dict):
        for key, value in data.items():
            here = f"{trail}.{key}" if trail else str(key)
            if str(key).lower() in _INFRA_KEYS:
                raise ConfigError(
                    "infrastructure settings do not belong in floe.yaml",
                    file=path, key=here, value=key,
                    hint="floe.yaml is environment-agnostic; the platform team sets this in manifest.yaml",
                )
            _check_infra_keys(path, value, here)
    elif isinstance(data, list):
        for i, item in enumerate(data):
            _check_infra_keys(path, item, f"{trail}[{i}]")


def _to_config_errors(path: Path, exc: ValidationError, model: type[BaseModel]) -> ConfigError:
    data = read_yaml(path)
    errors = [_one_error(path, err, data) for err in exc.errors(include_url=False)]
    # Discriminated unions report one error per failed branch; keep the first per key.
    unique: dict[str, ConfigError] = {}
    for e in errors:
        unique.setdefault(f"{e.key}|{e.message}", e)
    collected = list(unique.values())
    if len(collected) == 1:
        return collected[0]
    return ConfigErrors(path, collected)


def _one_error(path: Path, err: Any, data: Any) -> ConfigError:
    loc = _key_path(err["loc"], data)
    kind = err["type"]
    value = err.get("input")
    if kind == "extra_forbidden":
        return ConfigError("unknown key", file=path, key=loc, value=loc.rsplit(".", 1)[-1],
                           hint="remove it or fix its spelling; `floe schema` prints every allowed key")
    if kind == "missing":
        return ConfigError("required key is missing", file=path, key=loc,
                           hint="add it; `floe schema` shows its type")
    if kind in ("literal_error", "enum"):
        expected = err.get("ctx", {}).get("expected", "")
        return ConfigError("value not allowed", file=path, key=loc, value=value, allowed=str(expected),
                           hint="use one of the allowed values")
    if kind == "union_tag_invalid":
        ctx = err.get("ctx", {})
        return ConfigError("unknown plugin type", file=path, key=f"{loc}.type" if loc else "type",
                           value=ctx.get("tag"), allowed=str(ctx.get("expected_tags", "")),
                           hint="run `floe plugins list` to see installed plugins")
    if kind == "union_tag_not_found":
        return ConfigError("plugin `type` is missing", file=path, key=f"{loc}.type",
                           hint="every plugin section needs `type:`; `floe plugins list` shows them")
    message = err["msg"].removeprefix("Value error, ")
    return ConfigError(message, file=path, key=loc or None, value=value if not isinstance(value, dict) else None)


def _key_path(loc: tuple[Any, ...], data: Any) -> str:
    """Render pydantic's location as the key path the user wrote, dropping union tags it inserts."""
    parts: list[str] = []
    node = data
    for item in loc:
        if isinstance(item, int) and isinstance(node, list):
            parts.append(f"[{item}]")
            node = node[item] if item < len(node) else None
        elif isinstance(node, dict) and item in node:
            parts.append(("." if parts else "") + str(item))
            node = node[item]
        elif isinstance(node, dict) and isinstance(item, str) and node.get("type") == item:
            continue  # the discriminator tag pydantic adds for the chosen union member
        else:
            parts.append(("." if parts else "") + str(item))
            node = None
    return "".join(parts)
