"""Builtin lineage plugins."""
