"""Governance enforcement levels: shared by manifest.yaml, floe.yaml and CompiledArtifacts."""

from __future__ import annotations

from enum import Enum


class EnforcementLevel(str, Enum):
    OFF = "off"
    WARN = "warn"
    STRICT = "strict"

    @property
    def rank(self) -> int:
        return {"off": 0, "warn": 1, "strict": 2}[self.value]

    @classmethod
    def stricter(cls, a: EnforcementLevel, b: EnforcementLevel | None) -> EnforcementLevel:
        if b is None:
            return a
        return a if a.rank >= b.rank else b
