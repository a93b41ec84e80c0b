"""Builtin quality plugins."""
