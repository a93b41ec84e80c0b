"""Builtin rbac plugins."""
