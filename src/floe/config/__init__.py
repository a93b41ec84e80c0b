"""Typed configuration: manifest.yaml (platform team) and floe.yaml (data team)."""

from floe.config.governance import GovernanceConfig
from floe.config.loader import load_model
from floe.config.manifest import PlatformManifest
from floe.config.spec import FloeSpec

__all__ = ["FloeSpec", "GovernanceConfig", "PlatformManifest", "load_model"]
