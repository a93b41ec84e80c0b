"""Governance policy: what the platform team requires of every data product."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator

from floe.contract import AskedSchemaChanges, EnforcementLevel, FloeModel, SchemaChanges


def _regex(pattern: str, what: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.MULTILINE)
    except re.error as exc:
        raise ValueError(f"{what} is not a valid regular expression: {exc}") from exc


class NamingConfig(FloeModel):
    enforcement: EnforcementLevel = EnforcementLevel.WARN
    pattern: Literal["medallion", "dbt", "kimball", "custom"] = "dbt"
    custom_patterns: list[Annotated[str, Field(max_length=500)]] = Field(default_factory=list)

    @field_validator("custom_patterns")
    @classmethod
    def _compile(cls, patterns: list[str]) -> list[str]:
        for p in patterns:
            _regex(p, f"custom pattern {p!r}")
        return patterns


class QualityGates(FloeModel):
    minimum_test_coverage: Annotated[int, Field(ge=0, le=100)] = 80
    require_descriptions: bool = False
    require_column_descriptions: bool = False
    block_on_failure: bool = True


class SecretPattern(FloeModel):
    """A platform-specific secret shape (an internal token format, say); findings are E699."""

    name: Annotated[str, Field(min_length=1, max_length=100)]
    pattern: Annotated[str, Field(min_length=1, max_length=500)]
    """A Python regular expression (``^`` and ``$`` match at each line); its first group, if any, is the
    value. It runs over every scanned file, so keep it simple: no nested repetition."""
    severity: Literal["error", "warning"] = "error"

    @field_validator("pattern")
    @classmethod
    def _compile(cls, pattern: str) -> str:
        if _regex(pattern, "the pattern").search(""):
            raise ValueError("the pattern matches the empty string, so it would flag every line; "
                             "make it require at least one character")
        return pattern


class SecretScanning(FloeModel):
    """Compile-time scan of the product's dbt project for committed secrets (floe.governance.secrets)."""

    enabled: bool = True
    exclude_patterns: list[Annotated[str, Field(min_length=1, max_length=500)]] = Field(default_factory=list)
    """Globs relative to the product folder (``*`` also crosses ``/``); a folder's glob excludes all of it."""
    custom_patterns: list[SecretPattern] = Field(default_factory=list)
    severity: Literal["error", "warning"] = "error"
    """``warning`` records findings without ever failing a compile, at any enforcement level."""


class RequireTags(FloeModel):
    type: Literal["require_tags_for_prefix"]
    prefix: str
    required_tags: list[str]


class RequireMeta(FloeModel):
    type: Literal["require_meta_field"]
    field: str
    applies_to: str = "*"


class RequireTests(FloeModel):
    type: Literal["require_tests_of_type"]
    test_types: list[str]
    applies_to: str = "*"


CustomRule = Annotated[RequireTags | RequireMeta | RequireTests, Field(discriminator="type")]


class GovernanceConfig(FloeModel):
    """Platform-wide policy. Products may ask for more (stricter wins), never for less."""

    policy_enforcement_level: EnforcementLevel = EnforcementLevel.WARN
    naming: NamingConfig | None = None
    quality_gates: QualityGates = Field(default_factory=QualityGates)
    data_retention_days: Annotated[int, Field(ge=1)] = 30
    default_ttl_hours: Annotated[int, Field(ge=1)] = 24
    snapshot_keep_last: Annotated[int, Field(ge=1)] = 3
    audit_logging: bool = True
    schema_changes: SchemaChanges = Field(default_factory=SchemaChanges)
    """Published tables' schemas: ``dropped_columns`` and ``type_changes``, each allow | warn | block."""
    secret_scanning: SecretScanning = Field(default_factory=SecretScanning)
    custom_rules: list[CustomRule] = Field(default_factory=list)


class ProductGovernance(FloeModel):
    """What a data product may ask for in floe.yaml: only ways to be stricter."""

    policy_enforcement_level: EnforcementLevel | None = None
    minimum_test_coverage: Annotated[int, Field(ge=0, le=100)] | None = None
    require_descriptions: bool | None = None
    schema_changes: AskedSchemaChanges | None = None
    """Stricter schema-change handling than the manifest's (a looser key is a compile warning)."""
