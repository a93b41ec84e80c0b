"""$FLOE_HOME layout and the local platform's generated credentials."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

SECRETS_FILE = "secrets.env"


def floe_home() -> Path:
    return Path(os.environ.get("FLOE_HOME", Path.home() / ".local" / "share" / "floe")).expanduser()


def cache_dir() -> Path:
    return Path(os.environ.get("FLOE_CACHE", Path.home() / ".cache" / "floe")).expanduser()


@dataclass(frozen=True)
class Home:
    root: Path

    @classmethod
    def current(cls) -> Home:
        return cls(floe_home())

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def config(self) -> Path:
        return self.root / "config"

    @property
    def secrets_file(self) -> Path:
        return self.root / SECRETS_FILE

    def ensure(self) -> None:
        for d in (self.root, self.run, self.logs, self.data, self.config):
            d.mkdir(parents=True, exist_ok=True)


# Generated once per FLOE_HOME; values never appear in code, logs, artifacts or spans.
_GENERATED = (
    "FLOE_PG_PASSWORD",
    "FLOE_S3_ACCESS_KEY_ID",
    "FLOE_S3_SECRET_ACCESS_KEY",
    "FLOE_POLARIS_ROOT_CLIENT_ID",
    "FLOE_POLARIS_ROOT_CLIENT_SECRET",
    "FLOE_REGISTRY_PASSWORD",
    "FLOE_SEMANTIC_TOKEN",
)


def read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            key, sep, value = line.strip().partition("=")
            if sep and key and not key.startswith("#"):
                values[key.strip()] = value.strip()
    return values


def ensure_secrets(home: Home, extra: dict[str, str] | None = None,
                   products: Iterable[str] = ()) -> dict[str, str]:
    """Create missing credentials (0600 file), keep existing ones; return them all.

    ``products`` adds each data product's own principal (``FLOE_PRODUCT_<PRODUCT>_CLIENT_ID/_SECRET``).
    """
    from floe.config.principals import product_secret_names

    home.ensure()
    values = read_env_file(home.secrets_file)
    changed = False
    for key in [*_GENERATED, *(name for p in products for name in product_secret_names(p))]:
        if key not in values:
            values[key] = ("floe" if key.endswith("_ID") else "") + secrets.token_hex(16)
            changed = True
    values.setdefault("FLOE_REGISTRY_USER", "floe")
    # The catalog credentials floe's runtime uses default to Polaris's root principal.
    for key, source in (("FLOE_CATALOG_CLIENT_ID", "FLOE_POLARIS_ROOT_CLIENT_ID"),
                        ("FLOE_CATALOG_CLIENT_SECRET", "FLOE_POLARIS_ROOT_CLIENT_SECRET")):
        if key not in values:
            values[key] = values[source]
            changed = True
    for key, value in (extra or {}).items():
        if values.get(key) != value:
            values[key] = value
            changed = True
    if changed or not home.secrets_file.exists():
        tmp = home.secrets_file.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("# floe local platform credentials (generated; do not commit)\n")
            for key in sorted(values):
                f.write(f"{key}={values[key]}\n")
        tmp.replace(home.secrets_file)
    return values
