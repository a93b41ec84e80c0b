"""Governance enforcement levels: shared by manifest.yaml, floe.yaml and CompiledArtifacts."""

from __future__ import annotations

from enum import Enum
from typing import Literal

from floe.contract._base import FloeModel


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


SchemaChange = Literal["allow", "warn", "block"]
"""What a publish does with a column change an Iceberg table cannot take in place: apply it (allow),
apply it and say so in the run's log (warn), or publish nothing and say how to proceed (block)."""

_CHANGE_RANK = {"allow": 0, "warn": 1, "block": 2}


class SchemaChanges(FloeModel):
    """Governance of a published table's schema. Added columns and widened types (int -> bigint,
    float -> double, decimal precision) always evolve in place."""

    dropped_columns: SchemaChange = "warn"
    """A column the model no longer has: dropped from the table's current schema (older snapshots keep
    it), instead of staying on as all-NULL."""
    type_changes: SchemaChange = "block"
    """A column whose type changed other than by widening: replaced by a column of the new type (new
    field id; older snapshots read the old one). ``floe run --full-refresh MODEL`` allows it for one run."""

    def stricter(self, asked: AskedSchemaChanges | None) -> SchemaChanges:
        """Per key, the stricter of this and what ``asked`` sets."""
        if asked is None:
            return self
        rank = _CHANGE_RANK.__getitem__
        return SchemaChanges(**{key: max(getattr(self, key), getattr(asked, key) or "allow", key=rank)
                                for key in _KEYS})

    def looser(self, asked: AskedSchemaChanges) -> list[tuple[str, str, str]]:
        """``(key, asked, this)`` for each key ``asked`` sets looser than this."""
        pairs = [(key, getattr(asked, key), getattr(self, key)) for key in _KEYS]
        return [(key, mine, theirs) for key, mine, theirs in pairs
                if mine is not None and _CHANGE_RANK[mine] < _CHANGE_RANK[theirs]]


class AskedSchemaChanges(FloeModel):
    """What floe.yaml may ask of ``SchemaChanges``: any key, stricter only."""

    dropped_columns: SchemaChange | None = None
    type_changes: SchemaChange | None = None


_KEYS = ("dropped_columns", "type_changes")
