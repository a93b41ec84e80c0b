"""Builtin catalog plugins."""
