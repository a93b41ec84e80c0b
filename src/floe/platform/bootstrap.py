"""Bootstrap: each configured plugin creates what it needs on the running platform and verifies each step
by reading it back (``FloePlugin.bootstrap``: buckets, warehouses, the rbac plugin's grants...).

Idempotent: a second run changes nothing and says "already present". A failing step raises
``BootstrapError`` naming the step and the reason.
"""

from __future__ import annotations

from floe.plugins.local import BootstrapError, LocalPlatform, StepResult

__all__ = ["BootstrapError", "StepResult", "run_bootstrap"]


def run_bootstrap(platform: LocalPlatform) -> list[StepResult]:
    """Every plugin's bootstrap steps, in plugin-type order."""
    return [step for plugins in platform.plugins.values() for plugin in plugins for step in plugin.bootstrap(platform)]
