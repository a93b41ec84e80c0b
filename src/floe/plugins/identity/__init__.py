"""Builtin identity plugins."""

# floe.config's plugin-slot union names StaticTokenIdentityConfig, defined in this package: loading the
# config package first keeps `import floe.plugins.identity.static_token` working as a process's first
# floe import (entry-point loading). Goes away with the registry-driven plugin configuration.
import floe.config  # noqa: F401
