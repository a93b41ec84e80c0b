"""YAML -> typed config, with errors that name the file, the key, the value and the fix.

Input files are untrusted (a product repo, a pasted manifest), so reading is bounded before anything
is built: one pass over libyaml's event stream refuses oversize files, deep nesting, alias bombs,
object-constructing tags, duplicate and non-string keys and multi-document files, each with the key
path where it happened. Only then are Python values constructed, with PyYAML's safe constructor.
"""

from __future__ import annotations

import re
from itertools import pairwise
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from floe.errors import ConfigError, ConfigErrors

M = TypeVar("M", bound=BaseModel)

# Limits. Real floe.yaml / manifest.yaml / dbt schema files are a few KiB, about 6 levels deep and a
# few hundred nodes; each limit is >100x that, so no honest file meets one, while a hostile file is
# refused within milliseconds and a few MiB of memory (measured in tests/unit/hostile).
MAX_BYTES = 1 << 20
"""1 MiB: the whole text is held in memory while parsing."""
MAX_DEPTH = 64
"""Nesting levels; also keeps the recursive composer and pydantic far from Python's recursion limit."""
MAX_NODES = 100_000
"""Nodes after alias expansion: what consumers (pydantic, key walks, JSON) would have to visit.
A billion-laughs file is a few hundred bytes that expand to 10^9 nodes."""

_Y = "tag:yaml.org,2002:"
# Tags that only restate a plain type. Anything else (!!python/object, !!binary, !!set, custom !Tags)
# would construct values floe never asked for, so it is refused rather than honoured.
_PLAIN_TAGS = {"!", *(_Y + t for t in ("str", "int", "float", "bool", "null", "map", "seq"))}


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """libyaml when present (fast, not recursive), PyYAML's safe constructor, no implicit dates:
    ``2024-01-01`` stays the string the user wrote instead of becoming a ``datetime.date``."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _Y + "timestamp"]
    for first, resolvers in _Loader.yaml_implicit_resolvers.items()
}
_RESOLVER = yaml.resolver.Resolver()


def read_yaml(path: Path, *, allow_empty: bool = False) -> dict[str, Any]:
    """Read one YAML mapping from ``path`` within the limits above.

    Raises:
        ConfigError: the file is missing, unreadable, too large, not one mapping, or hostile; the
            message names the file and, where there is one, the key path.
    """
    text = _read_text(path)
    try:
        _scan(text, path)
        data = yaml.load(text, Loader=_Loader)  # noqa: S506  # nosec B506 - _Loader is a (C)SafeLoader
    except ConfigError:
        raise
    except yaml.YAMLError as exc:
        raise _syntax_error(path, exc) from exc
    except (ValueError, OverflowError) as exc:  # e.g. an int of more digits than Python converts
        raise ConfigError(f"value cannot be read: {exc}", file=path,
                          hint="quote the value to keep it a string") from exc
    if data is None and allow_empty:
        return {}
    if not isinstance(data, dict):
        raise ConfigError("the document must be a mapping", file=path,
                          value="an empty file" if data is None else type(data).__name__,
                          allowed="a YAML mapping with apiVersion, kind, metadata ...")
    return data


def _read_text(path: Path) -> str:
    if not path.exists():
        raise ConfigError(
            "file not found", file=path, hint=f"create it, or pass the right path (cwd is {Path.cwd()})"
        )
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_BYTES + 1)  # never more than the limit in memory
    except OSError as exc:
        raise ConfigError(f"cannot read the file: {exc.strerror or exc}", file=path,
                          hint="pass the path of a readable YAML file") from exc
    if len(raw) > MAX_BYTES:
        raise ConfigError(f"file is larger than {MAX_BYTES // 1024} KiB", file=path,
                          hint="a floe.yaml or manifest.yaml is a few KiB; split data out of it")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"file is not UTF-8 text (byte {exc.start})", file=path,
                          hint="save it as UTF-8") from exc


def _syntax_error(path: Path, exc: yaml.YAMLError, key: str | None = None) -> ConfigError:
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
    problem = getattr(exc, "problem", None) or exc
    if "maximum nesting depth" in str(problem):  # libyaml's own limit, met while reading ahead
        return ConfigError(f"nested too deeply (at {where})", file=path, key=key,
                           hint="flatten the structure; floe's files are a few levels deep")
    if "expected a single document" in str(problem):
        return ConfigError(f"more than one YAML document (a second one starts at {where})", file=path,
                           hint="keep one document per file: remove the `---` separator and what follows")
    return ConfigError(f"invalid YAML at {where}: {problem}", file=path, key=key,
                       hint="fix the YAML syntax (indentation, quotes, colons)")


class _Frame:
    __slots__ = ("anchor", "expect_key", "index", "is_map", "key", "keys", "path", "start")

    def __init__(self, is_map: bool, path: str, anchor: str | None, start: int) -> None:
        self.is_map, self.path, self.anchor, self.start = is_map, path, anchor, start
        self.expect_key, self.key, self.keys, self.index = True, "", set[str](), 0

    def child(self) -> str:
        if not self.is_map:
            return f"{self.path}[{self.index}]"
        return f"{self.path}.{self.key}" if self.path else self.key

    def advance(self) -> None:
        if self.is_map:
            self.expect_key = True
        else:
            self.index += 1


def _scan(text: str, path: Path) -> None:
    """Walk the event stream once and refuse what a safe load would still let through."""
    stack: list[_Frame] = []
    anchors: dict[str, int] = {}  # anchor -> node count of its (expanded) subtree
    nodes = documents = 0
    events = yaml.parse(text, Loader=_Loader)
    while True:
        try:
            event = next(events)
        except StopIteration:
            return
        except yaml.YAMLError as exc:
            raise _syntax_error(path, exc, stack[-1].child() if stack else None) from exc
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                line = event.start_mark.line + 1 if event.start_mark else "?"
                raise ConfigError(f"more than one YAML document (a second one starts at line {line})",
                                  file=path, hint="keep one document per file: remove the `---` separator "
                                                  "and what follows")
            continue
        if isinstance(event, yaml.CollectionEndEvent):
            frame = stack.pop()
            if frame.anchor:
                anchors[frame.anchor] = nodes - frame.start
            if stack:
                stack[-1].advance()
            continue
        if not isinstance(event, yaml.NodeEvent):
            continue
        parent = stack[-1] if stack else None
        is_key = parent is not None and parent.is_map and parent.expect_key
        where = (parent.path if is_key else parent.child()) if parent else ""
        tag = getattr(event, "tag", None)
        if tag is not None and tag not in _PLAIN_TAGS:
            raise ConfigError(f"YAML tag {tag} is not allowed", file=path, key=where or None,
                              hint="floe reads plain YAML only: remove the tag (tags that build "
                                   "objects are never honoured)")
        if isinstance(event, yaml.AliasEvent):
            size = anchors.get(event.anchor or "", 1)
        elif isinstance(event, yaml.ScalarEvent):
            size = 1
        else:  # a collection starts
            size = 0
        if is_key:
            assert parent is not None
            _check_key(event, parent, path)
        nodes += size or 1
        if nodes > MAX_NODES:
            raise ConfigError(f"the document expands to more than {MAX_NODES:,} values", file=path,
                              key=where or None, hint="anchors and aliases (&x / *x) multiply what they "
                                                      "repeat: write the values out, or fewer of them")
        if isinstance(event, yaml.CollectionStartEvent):
            if len(stack) >= MAX_DEPTH:
                raise ConfigError(f"nested more than {MAX_DEPTH} levels deep", file=path, key=where or None,
                                  hint="flatten the structure; floe's files are a few levels deep")
            stack.append(_Frame(isinstance(event, yaml.MappingStartEvent), where, event.anchor, nodes - 1))
            continue
        if isinstance(event, yaml.ScalarEvent) and event.anchor:
            anchors[event.anchor] = 1
        if parent is not None and not is_key:
            parent.advance()


def _check_key(event: yaml.NodeEvent, parent: _Frame, path: Path) -> None:
    if not isinstance(event, yaml.ScalarEvent):
        raise ConfigError("keys must be plain strings", file=path, key=parent.path or None,
                          value=type(event).__name__.removesuffix("Event").replace("Start", "").lower(),
                          hint="write the key as a plain word; lists, mappings and aliases cannot be keys")
    key = event.value
    # `!` is the non-specific tag (a string); a plain key is what YAML makes of it: `1`, `on`, `~` are no strings
    tag = _Y + "str" if event.tag == "!" else (
        event.tag or _RESOLVER.resolve(yaml.ScalarNode, key, event.implicit))  # type: ignore[no-untyped-call]
    shown = key if len(key) <= 60 else key[:57] + "..."
    if tag not in (_Y + "str", _Y + "merge"):
        raise ConfigError("keys must be strings", file=path, key=f"{parent.path}.{shown}" if parent.path else shown,
                          value=key, allowed="a plain word (quote it if YAML reads it as a number, bool or null)",
                          hint=f'write it as "{shown}"')
    if not key.strip():
        raise ConfigError("empty key", file=path, key=parent.path or None, value=key,
                          hint="give the key a name or remove the line")
    if key in parent.keys:
        raise ConfigError("duplicate key", file=path, key=f"{parent.path}.{shown}" if parent.path else shown,
                          hint="a key may appear once per mapping: keep one of them")
    parent.keys.add(key)
    parent.key = shown
    parent.expect_key = False


# Keys a data team must never put in floe.yaml: they belong to the platform (manifest.yaml).
_INFRA_KEYS = {
    "database", "schema", "host", "port", "username", "connection_string", "endpoint",
}
# Words that make a key a secret wherever they stand in it (db_password, apiToken, client-secret ...).
_SECRET_WORDS = {"password", "passwd", "pwd", "token", "secret", "secrets", "credential", "credentials",
                 "apikey", "passphrase"}
_SECRET_PAIRS = {("api", "key"), ("access", "key"), ("private", "key"), ("secret", "key")}
_WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def load_model(path: Path, model: type[M], *, forbid_infra_keys: bool = False,
               context: dict[str, Any] | None = None) -> M:
    """Read ``path`` and validate it into ``model``; every problem is reported at once.

    Args:
        path: the YAML file.
        model: the pydantic model of the file.
        forbid_infra_keys: refuse secrets and infrastructure settings anywhere in the file (floe.yaml).
        context: pydantic validation context (the plugin registry, for a manifest's plugin slots).

    Raises:
        ConfigError: naming the file, the key path, the value received and the fix.
    """
    data = read_yaml(path)
    if forbid_infra_keys:
        _check_infra_keys(path, data)
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise _to_config_errors(path, exc, data) from exc


def is_secret_key(key: str) -> bool:
    """True for keys such as ``password``, ``db_token``, ``clientSecret`` or ``api-key``."""
    words = [w.lower() for w in _WORDS.findall(key)]
    return bool(_SECRET_WORDS.intersection(words)) or any(pair in _SECRET_PAIRS for pair in pairwise(words))


def _check_infra_keys(path: Path, data: Any, trail: str = "") -> None:
    if isinstance(data, dict):
        for key, value in data.items():
            here = f"{trail}.{key}" if trail else str(key)
            if is_secret_key(str(key)):
                raise ConfigError(
                    "secrets do not belong in floe.yaml", file=path, key=here, value=key,
                    hint="remove it (and rotate it if it was committed). The platform team references "
                         "secrets in manifest.yaml by name, e.g. `client_secret: env:POLARIS_SECRET` "
                         "(env:NAME, file:/path or k8s:secret/key), and the secrets plugin resolves them "
                         "at run time",
                )
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


def _to_config_errors(path: Path, exc: ValidationError, data: Any) -> ConfigError:
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
    if len(message) > 300:  # validators quote the value; a 100 KB value must not become the message
        message = message[:297] + "..."
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
