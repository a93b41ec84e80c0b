"""Builtin identity plugins."""
