"""Artifact distribution: CompiledArtifacts in an OCI registry, signed (Ed25519) and promoted.

Modules: ``tags`` (reference grammar, immutability, promotion tag names), ``media`` (media types and
manifests), ``signing`` (keys, signatures, verification), ``client`` (the registry, through oras),
``promotion`` (environments, gates, audit records, promote and rollback).

Importing this package is cheap; oras and cryptography load only in the modules that need them.
"""

from __future__ import annotations
