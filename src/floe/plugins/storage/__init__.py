"""Builtin storage plugins."""
