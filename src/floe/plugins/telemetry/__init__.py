"""Builtin telemetry plugins."""
