"""Builtin orchestrator plugins."""
