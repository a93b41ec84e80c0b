"""DuckDB extensions from their PyPI wheels, installed into a private folder (no downloads)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

EXTENSIONS = ("httpfs", "avro", "iceberg")


def cache_dir() -> Path:
    return Path(os.environ.get("FLOE_CACHE", Path.home() / ".cache" / "floe"))


def extension_dir() -> Path:
    """Folder DuckDB loads extensions from; filled once from the installed wheels."""
    import duckdb

    target = cache_dir() / "duckdb_ext"
    marker = target / f".installed-{duckdb.__version__}"
    if marker.exists():
        return target
    target.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(f"SET extension_directory='{target}'")
    for name in EXTENSIONS:
        spec = importlib.util.find_spec(f"duckdb_extension_{name}")
        if spec is None or not spec.submodule_search_locations:
            raise RuntimeError(f"duckdb-extension-{name} is not installed; run `make setup`")
        pkg = Path(next(iter(spec.submodule_search_locations)))
        files = list(pkg.rglob(f"{name}.duckdb_extension"))
        con.execute(f"INSTALL '{files[0]}'")
    con.close()
    marker.touch()
    return target
