"""Builtin semantic plugins."""
