"""Builtin ingestion plugins."""
