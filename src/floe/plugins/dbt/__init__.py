"""Builtin dbt plugins."""
