"""Builtin secrets plugins."""
