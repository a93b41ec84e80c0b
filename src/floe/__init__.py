"""floe: an open platform for building data platforms.

Public surface::

    from floe import compile_pipeline, CompiledArtifacts, FloeSpec, PlatformManifest, FloeError
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from floe._version import __version__

if TYPE_CHECKING:
    from floe.compiler import CompilationStage, compile_pipeline
    from floe.config import FloeSpec, PlatformManifest
    from floe.contract import CompiledArtifacts
    from floe.errors import FloeError, PolicyEnforcementError

__all__ = [
    "CompilationStage",
    "CompiledArtifacts",
    "FloeError",
    "FloeSpec",
    "PlatformManifest",
    "PolicyEnforcementError",
    "__version__",
    "compile_pipeline",
]

_LAZY = {
    "CompilationStage": "floe.compiler",
    "CompiledArtifacts": "floe.contract",
    "compile_pipeline": "floe.compiler",
    "FloeSpec": "floe.config",
    "PlatformManifest": "floe.config",
    "FloeError": "floe.errors",
    "PolicyEnforcementError": "floe.errors",
}


def __getattr__(name: str) -> Any:
    # Lazy so `import floe` (and the CLI's start-up) stays fast.
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'floe' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
