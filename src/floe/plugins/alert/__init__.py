"""Builtin alert plugins."""
