"""Governance: the platform's policies, enforced at compile time."""

from floe.governance.enforcer import enforce, resolve_governance

__all__ = ["enforce", "resolve_governance"]
