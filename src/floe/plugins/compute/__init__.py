"""Builtin compute plugins."""
