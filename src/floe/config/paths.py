"""Paths written in floe.yaml / manifest.yaml stay inside the folder of the file that wrote them.

A product repo is not trusted with the rest of the machine: a ``..``, an absolute path or a symlink
that leads out of the product folder could make compile read, or a run write, files it should not.
"""

from __future__ import annotations

from pathlib import Path

from floe.errors import ConfigError


def inside(root: Path, path: Path) -> bool:
    """True when ``path``, after following symlinks, is ``root`` or below it."""
    return path.resolve().is_relative_to(root.resolve())


def contained(root: Path, value: str, *, file: Path, key: str, allow_absolute: bool = False) -> Path:
    """``root / value``, refused unless it stays under ``root`` (symlinks followed).

    Args:
        allow_absolute: an absolute path is the writer's explicit choice (the platform team placing
            its warehouse or lineage log); only relative paths must not climb out.

    Raises:
        ConfigError: naming the file, the key and the value, when the path leads out of ``root``.
    """
    if allow_absolute and (Path(value).is_absolute() or value.startswith(("~", "$"))):
        return Path(value)
    if Path(value).is_absolute() or value.startswith("~"):
        raise ConfigError("absolute paths are not allowed here", file=file, key=key, value=value,
                          hint=f"write a path relative to {root.name}/ that stays inside it")
    path = root / value
    if not inside(root, path):
        why = "leads out of" if ".." in Path(value).parts else "is a symlink out of"
        raise ConfigError(f"path {why} {root.name}/", file=file, key=key, value=value,
                          hint=f"keep it inside {root.name}/; floe reads and writes only there")
    return path
